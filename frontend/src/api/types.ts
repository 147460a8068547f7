/**
 * Short names for the gateway's response shapes, all taken from the generated `schema.d.ts`
 * (`npm run gen:api`): when the backend changes a shape, the type check shows every place to adapt.
 */
import type { components } from './schema';

type Schemas = components['schemas'];

export type Me = Schemas['Caller'];
export type AdminStatus = Schemas['AdminStatus'];
export type ModelStatus = Schemas['ModelStatus'];
export type ModelState = Schemas['ModelState'];
export type LastError = Schemas['LastError'];
export type GpuSample = Schemas['GPU'];
export type SystemSample = Schemas['SystemStats'];
export type GpuBudget = Schemas['GPUBudget'];
export type BudgetShare = Schemas['BudgetShare'];
export type HuggingFaceToken = Schemas['TokenStatus'];
export type MonitorHistory = Schemas['MonitorHistory'];
export type HistoryPoint = Schemas['GPUPoint'];
export type LogEntry = Schemas['LogLine'];
export type LogLevel = LogEntry['level'];
export type LogPage = Schemas['LogPage'];
export type ServedModel = Schemas['ModelObject'];
export type Role = Me['role'];

import type { Me } from '../api/types';

export type Role = Me['role'];

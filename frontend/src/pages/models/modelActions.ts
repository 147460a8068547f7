import type { ModelStatus } from '../../api/types';

export interface ActionState {
  enabled: boolean;
  /** Why the button is disabled (its tooltip), or what it will do. */
  reason: string;
}

export interface ModelActions {
  download: ActionState;
  load: ActionState;
  unload: ActionState;
}

const busy = (model: ModelStatus): string => `wait: the model is ${model.state}`;

/** Which lifecycle buttons make sense for a slot in its current state, and why not. */
export function modelActions(model: ModelStatus): ModelActions {
  const local = model.source === 'local';
  const transitional =
    model.state === 'downloading' || model.state === 'loading' || model.state === 'unloading';

  let download: ActionState;
  if (local) download = { enabled: false, reason: 'served from a local folder: nothing to download' };
  else if (model.source === 'upstream')
    download = { enabled: false, reason: 'served by upstream servers: nothing to download' };
  else if (transitional) download = { enabled: false, reason: busy(model) };
  else if (model.state === 'loaded')
    download = { enabled: false, reason: 'loaded: unload it before refreshing the files' };
  else if (model.state === 'downloaded')
    download = { enabled: true, reason: 'fetch the files again from the Hugging Face Hub (updates them)' };
  else download = { enabled: true, reason: 'fetch the files from the Hugging Face Hub' };

  let load: ActionState;
  if (transitional) load = { enabled: false, reason: busy(model) };
  else if (model.state === 'loaded') load = { enabled: false, reason: 'already loaded' };
  else if (model.state === 'absent' && !local)
    load = { enabled: true, reason: 'download (if needed), then load into memory' };
  else load = { enabled: true, reason: model.state === 'error' ? 'try loading again' : 'load into memory' };

  const unload: ActionState =
    model.state === 'loaded'
      ? {
          enabled: true,
          reason: model.in_flight_requests
            ? `finishes the ${model.in_flight_requests} request(s) in flight, then frees the memory`
            : 'free the memory',
        }
      : { enabled: false, reason: model.state === 'unloading' ? busy(model) : 'not loaded' };

  return { download, load, unload };
}

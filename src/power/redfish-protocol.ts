/**
 * What `RedfishPowerController` reads out of Redfish resources, free of I/O: links, the systems
 * of a collection, `PowerState`, the `#ComputerSystem.Reset` action and its allowed reset types
 * (inline, or from its `@Redfish.ActionInfo`), a task's state, a `Location` made into a path, a
 * `Retry-After` header, and the words of a Redfish error body. Every reader of a resource takes
 * `unknown` (a BMC's JSON) and answers `undefined` where the resource does not say.
 *
 * @internal
 * @module
 */
import type { PowerState } from './power-controller.js';

/** A JSON object's property, when `value` is an object. */
function property(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? Reflect.get(value, name) : undefined;
}

function stringProperty(value: unknown, name: string): string | undefined {
  const found = property(value, name);
  return typeof found === 'string' ? found : undefined;
}

/** The `@odata.id` of `resource[name]` (a link), or of the path `names` walks. */
export function link(resource: unknown, ...names: string[]): string | undefined {
  let value = resource;
  for (const name of names) value = property(value, name);
  return stringProperty(value, '@odata.id');
}

/** A resource's `Id` property. */
export function memberId(resource: unknown): string | undefined {
  return stringProperty(resource, 'Id');
}

/** A member of a collection: its path and its Id (the last segment of its path). */
export interface Member {
  readonly path: string;
  readonly id: string;
}

/** The members of a collection (`Members: [{ "@odata.id" }]`). */
export function members(collection: unknown): Member[] {
  const list = property(collection, 'Members');
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry: unknown) => {
    const path = stringProperty(entry, '@odata.id');
    if (path === undefined) return [];
    const id = decodeURIComponent(path.replace(/\/+$/, '').split('/').pop() ?? path);
    return [{ path, id }];
  });
}

/** A Redfish `PowerState` as a {@link PowerState}: a transition counts as the state it heads to. */
export function powerState(system: unknown): PowerState | undefined {
  switch (stringProperty(system, 'PowerState')) {
    case 'On':
    case 'PoweringOn':
    case 'Paused':
      return 'on';
    case 'Off':
    case 'PoweringOff':
      return 'off';
    default:
      return undefined;
  }
}

/** The `PowerState` property as the system has it (`undefined` when it has none, `null`, any JSON), for messages. */
export function powerStateProperty(system: unknown): unknown {
  return property(system, 'PowerState');
}

/** The raw `PowerState` text, for messages. */
export function rawPowerState(system: unknown): string | undefined {
  return stringProperty(system, 'PowerState');
}

/** A system's `#ComputerSystem.Reset` action. */
export interface ResetAction {
  /** Where to POST. */
  readonly target: string;
  /** `ResetType@Redfish.AllowableValues`, when given inline. */
  readonly allowed: readonly string[] | undefined;
  /** The `@Redfish.ActionInfo` link, when the allowed values are there instead. */
  readonly actionInfo: string | undefined;
}

function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
}

/** The system's reset action, or `undefined` when it has none. */
export function resetAction(system: unknown): ResetAction | undefined {
  const action = property(property(system, 'Actions'), '#ComputerSystem.Reset');
  const target = stringProperty(action, 'target');
  if (target === undefined) return undefined;
  return {
    target,
    allowed: stringArray(property(action, 'ResetType@Redfish.AllowableValues')),
    actionInfo: stringProperty(action, '@Redfish.ActionInfo'),
  };
}

/** The allowed values of the `ResetType` parameter in an ActionInfo resource. */
export function actionInfoAllowed(info: unknown): string[] | undefined {
  const parameters = property(info, 'Parameters');
  if (!Array.isArray(parameters)) return undefined;
  const resetType = parameters.find((p: unknown) => stringProperty(p, 'Name') === 'ResetType');
  return stringArray(property(resetType, 'AllowableValues'));
}

/** How a task stands, from a Task resource (`TaskState`). */
export type TaskProgress = 'running' | 'completed' | 'failed' | 'unknown';

/** The task's progress; a task that ended in `Exception`, `Killed`, `Cancelled` or `Interrupted` failed. */
export function taskProgress(task: unknown): TaskProgress {
  const state = stringProperty(task, 'TaskState');
  if (state === undefined) return 'unknown';
  if (state === 'Completed') return stringProperty(task, 'TaskStatus') === 'Critical' ? 'failed' : 'completed';
  if (['Exception', 'Killed', 'Cancelled', 'Interrupted'].includes(state)) return 'failed';
  return 'running';
}

/** Where a Task resource says it is watched: its `TaskMonitor`, else the task itself. */
export function taskMonitor(task: unknown): string | undefined {
  return stringProperty(task, 'TaskMonitor') ?? link(task);
}

/** The task's messages, joined, for an error. */
export function taskMessages(task: unknown): string {
  const messages = property(task, 'Messages');
  const texts = Array.isArray(messages) ? messages.map((m: unknown) => stringProperty(m, 'Message') ?? stringProperty(m, 'MessageId')) : [];
  const state = stringProperty(task, 'TaskState') ?? 'unknown';
  return [`TaskState ${state}`, ...texts.filter((t): t is string => t !== undefined)].join(': ');
}

/**
 * The path (and query) a `Location` header or link names. An absolute URL gives its path only:
 * the request still goes to the configured BMC (a BMC may name itself by an internal host name).
 */
export function pathOf(location: string): string {
  if (location.startsWith('/')) return location;
  try {
    const url = new URL(location);
    return `${url.pathname}${url.search}`;
  } catch {
    return `/${location}`;
  }
}

/** Milliseconds a `Retry-After` header asks for (delay-seconds, or an HTTP date), when it is present and readable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (text === undefined || text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The MessageIds of a Redfish error body (`error.code` and each `@Message.ExtendedInfo` entry). */
export function messageIds(body: unknown): string[] {
  const error = property(body, 'error');
  const info = property(error, '@Message.ExtendedInfo') ?? property(body, '@Message.ExtendedInfo');
  const ids = Array.isArray(info) ? info.map((m: unknown) => stringProperty(m, 'MessageId')) : [];
  return [...ids, stringProperty(error, 'code')].filter((id): id is string => id !== undefined);
}

/** Whether a MessageId (`Base.1.8.PropertyValueNotInList`) names `message`, whatever its registry version. */
export function hasMessage(ids: readonly string[], message: string): boolean {
  return ids.some((id) => id === message || id.endsWith(`.${message}`));
}

/** What a Redfish error body says, in one line: its extended messages, else its message. */
export function errorText(body: unknown): string | undefined {
  const error = property(body, 'error');
  const info = property(error, '@Message.ExtendedInfo') ?? property(body, '@Message.ExtendedInfo');
  const extended = Array.isArray(info)
    ? info.map((m: unknown) => {
        const id = stringProperty(m, 'MessageId');
        const text = stringProperty(m, 'Message');
        return id === undefined ? text : text === undefined ? id : `${id}: ${text}`;
      })
    : [];
  const lines = extended.filter((t): t is string => t !== undefined);
  if (lines.length > 0) return lines.join(' / ');
  return stringProperty(error, 'message');
}

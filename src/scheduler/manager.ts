// cinder/scheduler/manager.py SchedulerManager as far as volumes go: it keeps the capability reports
// of every volume service (fanout), places a create on a pool and casts it there
// (scheduler/flows/create_volume.py, filter_scheduler.py schedule_create_volume), and answers
// get_pools from what it holds. The filters, weighers and pool arithmetic are the pure modules
// beside this one; this one reads the services table and sends the RPCs.
import { QuotaEngine } from '../quota/index.js';
import type { RequestContext } from '../common/context.js';
import { NoValidBackend, ParameterNotFound } from '../common/exceptions.js';
import type { Logger } from '../common/log.js';
import type { Db } from '../db/client.js';
import { dbNow } from '../db/client.js';
import * as dbapi from '../db/api.js';
import type { Volume } from '../objects/volume.js';
import { plainFromWire, requestSpecToPrimitive, type RequestSpec as WireRequestSpec } from '../rpc/request-spec.js';
import type { VolumeRpcApi } from '../rpc/volume-rpcapi.js';
import { FilterScheduler } from './filter-scheduler.js';
import { HostManager } from './host-manager.js';
import { normalizeRequestSpec, type FilterProperties, type SchedulerOptions, type ServiceInfo } from './types.js';

export interface SchedulerManagerDeps {
  db: Db;
  volumeRpc: VolumeRpcApi;
  logger: Logger;
  options: SchedulerOptions & { service_down_time: number; scheduler_driver_init_wait_time: number };
  sleep?: (ms: number) => Promise<void>;
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class SchedulerManager {
  readonly hostManager: HostManager;
  private readonly driver: FilterScheduler;
  private readonly db: Db;
  private readonly log: Logger;
  private readonly sleep: (ms: number) => Promise<void>;
  /** _startup_delay: creates wait until every volume service reported, or the init wait ran out. */
  private startupDelay = true;

  constructor(private readonly d: SchedulerManagerDeps) {
    this.db = d.db;
    this.log = d.logger;
    this.sleep = d.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.hostManager = new HostManager(d.options, d.logger);
    this.driver = new FilterScheduler(this.hostManager, d.options, d.logger);
  }

  /** The up, enabled cinder-volume services (HostManager._update_backend_state_map reads the same). */
  async volumeServices(): Promise<ServiceInfo[]> {
    const rows = await dbapi.servicesUp(this.db, 'cinder-volume', this.d.options.service_down_time);
    return rows.map((s) => ({ host: s.host ?? '', cluster_name: s.cluster_name ?? null, availability_zone: s.availability_zone, disabled: s.disabled, is_up: true }));
  }

  /**
   * init_host_with_rpc, after the fanout asking every volume service for its report: wait up to
   * scheduler_driver_init_wait_time for the first report, then stop delaying creates.
   */
  async initHostWithRpc(requestCapabilities: () => Promise<void>): Promise<void> {
    await requestCapabilities();
    for (let i = 0; i < this.d.options.scheduler_driver_init_wait_time; i++) {
      if (this.hostManager.firstReceiveCapabilities(await this.volumeServices())) break;
      await this.sleep(1000);
    }
    this.startupDelay = false;
  }

  /** _wait_for_scheduler: while starting, hold creates until every up volume service has reported. */
  private async waitForScheduler(): Promise<void> {
    while (this.startupDelay && !this.hostManager.hasAllCapabilities(await this.volumeServices())) await this.sleep(1000);
  }

  updateServiceCapabilities(a: Record<string, unknown>): void {
    this.hostManager.updateServiceCapabilities(
      String(a.service_name),
      String(a.host),
      (a.capabilities as Record<string, unknown> | null) ?? {},
      (a.cluster_name as string | null) ?? null,
      a.timestamp ?? null,
    );
  }

  notifyServiceCapabilities(a: Record<string, unknown>): void {
    const backend = String(a.backend ?? a.host);
    this.hostManager.notifyServiceCapabilities(String(a.service_name), backend, (a.capabilities as Record<string, unknown> | null) ?? {}, a.timestamp ?? null);
  }

  async getPools(filters: Record<string, unknown> | null): Promise<Array<{ name: string; capabilities: Record<string, unknown> }>> {
    return this.hostManager.getPools(await this.volumeServices(), filters);
  }

  /**
   * create_volume: ScheduleCreateVolumeTask. A placement goes to the volume row (volume_update_db:
   * host, cluster_name, scheduled_at, availability_zone) and is cast to that backend; a failure
   * errors the volume out (common.error_out) and, beyond Cinder, removes the workers row the API
   * wrote, since no service will ever take it.
   */
  async createVolume(ctx: RequestContext, volume: Volume, rawSpec: unknown, rawFilterProperties: unknown): Promise<void> {
    await this.waitForScheduler();
    const spec = normalizeRequestSpec(plainFromWire(rawSpec));
    spec.volume_id = spec.volume_id ?? volume.id;
    const filterProperties = { ...((rawFilterProperties as FilterProperties | null) ?? {}) } as FilterProperties;
    const log = this.log.child({ request_id: ctx.request_id, volume_id: volume.id });
    let placed: Volume;
    try {
      const { backend } = this.driver.scheduleCreateVolume(spec, filterProperties, await this.volumeServices());
      const az = (backend.service.availability_zone as string | null | undefined) ?? volume.availability_zone;
      const values = { host: backend.host, cluster_name: backend.cluster_name ?? null, scheduled_at: dbNow(), availability_zone: az };
      // Only while it is still a live 'creating' volume: one deleted meanwhile (the API deletes a
      // volume without a host at once) is not created on a backend (the manager's flow would fail
      // on VolumeNotFound in Cinder; here the cast is not sent).
      if (!(await dbapi.volumeConditionalUpdate(this.db, volume.id, values, { status: 'creating' }))) {
        log.info('Volume is no longer creating (deleted meanwhile?); not scheduled.');
        await dbapi.workerDestroyFor(this.db, volume.id, 'creating');
        this.hostManager.revertVolumeConsumedCapacity(backend.host, Number(spec.volume_properties?.size ?? 0));
        return;
      }
      placed = { ...volume, ...values };
    } catch (e) {
      log.error({ err: errText(e) }, `Failed to run task cinder.scheduler.flows.create_volume.ScheduleCreateVolumeTask;volume:create: ${errText(e)}`);
      await dbapi.volumeConditionalUpdate(this.db, volume.id, { status: 'error' }, { status: 'creating' });
      await dbapi.workerDestroyFor(this.db, volume.id, 'creating');
      if (e instanceof NoValidBackend) return;
      throw e;
    }
    // filter_properties carries the retry record to the volume service, which sends it back on a reschedule.
    delete (filterProperties as Record<string, unknown>).context;
    // The spec goes on as a RequestSpec object, with the Volume object received beside it.
    const { resource_properties: _rp, ...onward } = spec;
    await this.d.volumeRpc.createVolume(ctx, placed, requestSpecToPrimitive(onward as WireRequestSpec, placed), filterProperties, true);
    log.info({ host: placed.host }, 'Volume scheduled.');
  }

  /**
   * retype (cast 3.0; @append_operation_type(name='retype_volume')): the volume's own backend if it
   * passes the filters with the new type (find_retype_backend), then volume_rpcapi.retype to it; no
   * backend puts the volume back to its previous status and rolls back the new type's reservations
   * (_retype_volume_set_error).
   */
  async retype(ctx: RequestContext, volume: Volume, rawSpec: unknown, rawFilterProperties: unknown): Promise<void> {
    await this.waitForScheduler();
    const spec = (plainFromWire(rawSpec) ?? {}) as Record<string, unknown>;
    spec.operation = 'retype_volume';
    const log = this.log.child({ request_id: ctx.request_id, volume_id: volume.id });
    // _set_volume_state_and_notify('retype', {'volume_state': {'status': previous}}, ...).
    const setError = async (ex: Error, msg?: string) => {
      const state = { status: volume.previous_status || volume.status };
      log.error(msg ?? `Failed to schedule_retype: ${ex.message}`);
      const volumeId = spec.volume_id as string | undefined;
      if (volumeId) await dbapi.volumeUpdate(this.db, volumeId, state);
      // _retype_volume_set_error: the new type's reservations rolled back.
      const reservations = spec.quota_reservations as string[] | null | undefined;
      if (reservations) await new QuotaEngine(this.db).rollback(ctx, reservations);
      log.error({ notification: true, event_type: 'scheduler.retype', priority: 'ERROR', payload: { volume_id: volumeId ?? null, state, method: 'retype', reason: ex.message } }, 'notification scheduler.retype');
    };
    const newType = spec.volume_type as { id: string } | null | undefined;
    if (newType === null || newType === undefined) {
      // Cinder goes on after this and fails later on new_type['id']; the end state is the same.
      await setError(new ParameterNotFound({ param: 'volume_type' }), 'New volume type not specified in request_spec.');
      return;
    }
    const migrationPolicy = (spec.migration_policy as string | null | undefined) || 'never';
    let backend;
    try {
      const props = { ...((rawFilterProperties as FilterProperties | null) ?? {}) } as FilterProperties;
      backend = this.driver.findRetypeBackend(normalizeRequestSpec(spec), props, migrationPolicy, await this.volumeServices());
    } catch (e) {
      // Not having a valid backend is expected: only other failures propagate.
      await setError(e as Error);
      if (e instanceof NoValidBackend) return;
      throw e;
    }
    await this.d.volumeRpc.retype(ctx, volume, newType.id, backend, migrationPolicy, spec.quota_reservations ?? null, spec.old_reservations ?? null);
  }

  /** validate_host_capacity (3.8): can `backend` take the request now? */
  async validateHostCapacity(backend: string, rawSpec: unknown, rawFilterProperties: unknown): Promise<boolean> {
    const spec = normalizeRequestSpec(plainFromWire(rawSpec));
    try {
      const state = this.driver.backendPassesFilters(backend, spec, (rawFilterProperties as FilterProperties | null) ?? {}, await this.volumeServices());
      state.consumeFromVolume({ size: Number(spec.volume_properties?.size ?? 0) });
      return true;
    } catch (e) {
      if (!(e instanceof NoValidBackend)) throw e;
      this.log.error(`Desired host ${backend} does not have enough capacity.`);
      return false;
    }
  }
}

// Public surface of the RPC layer (oslo.messaging "rabbit" wire compatibility).
export * from './errors.js';
export * from './envelope.js';
export * from './context-codec.js';
export * from './ovo.js';
export * from './failure.js';
export * from './transport-options.js';
export * from './topology.js';
export * from './transport-api.js';
export * from './transport.js';
export * from './client.js';
export * from './dispatcher.js';
export { RpcServer, volumeServiceTargets, type RpcServerOptions } from './server.js';
export * from './volume-rpcapi.js';
export { versionIsCompatible, versionAtLeast } from './version.js';
export { hexId } from './ids.js';

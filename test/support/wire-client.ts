// An RpcClient for unit tests whose casts go through the wire codec: the request as oslo builds it,
// JSON, then parsed and deserialized as our RPC server does. Each cast lands in `into` with its
// method, version and target, so a test can replay it on the next service in the chain.
import type { RequestContext } from '../../src/common/context.js';
import { buildRequest, type RpcClient, type Target } from '../../src/rpc/client.js';
import { parseRequest } from '../../src/rpc/dispatcher.js';
import { deserializeEntity } from '../../src/rpc/ovo.js';

export function wireClient(into: Record<string, unknown>[]): RpcClient {
  return {
    cast: async (target: Target, c: RequestContext, method: string, args: Record<string, unknown>, opts: { version: string }) => {
      const req = parseRequest(JSON.parse(JSON.stringify(buildRequest(c, method, args, opts.version))));
      into.push({ ...(deserializeEntity(req.args) as Record<string, unknown>), _method: req.method, _version: req.version, _target: target });
    },
  } as unknown as RpcClient;
}

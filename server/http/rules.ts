/**
 * Loki's ruler configuration API (pkg/ruler/base/api.go): list, read, create and delete rule
 * groups as YAML, stored as the tenant's rule files. Served under `/loki/api/v1/rules`, the
 * legacy `/api/prom/rules` (Grafana's rule editor uses that one) and `/prometheus/config/v1/rules`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatNamespacesYaml, formatRuleGroupYaml, parseRuleGroup, RuleValidationError } from '../ruler/rule-file.js';
import { RuleFileConflictError, validateNamespace } from '../ruler/rule-store.js';
import type { ServerContext } from './context.js';
import { HttpError } from './errors.js';

const PREFIXES = ['/loki/api/v1/rules', '/api/prom/rules', '/prometheus/config/v1/rules'];

/** Loki's respondAccepted body: the change is picked up by the ruler, not applied in the request. */
const ACCEPTED = { status: 'success', data: null, errorType: '', error: '' };

type NamespaceRequest = FastifyRequest<{ Params: { namespace: string } }>;
type GroupRequest = FastifyRequest<{ Params: { namespace: string; groupName: string } }>;

export function ruleRoutes(app: FastifyInstance, ctx: ServerContext): void {
  if (!ctx.config.ruler.enable_api) return;
  const store = ctx.ruler.store;

  const sendYaml = (reply: FastifyReply, yaml: string) => reply.code(200).type('application/yaml').send(yaml);
  const accepted = (request: FastifyRequest, reply: FastifyReply) => {
    ctx.ruler.reload(request.tenant);
    return reply.code(202).type('application/json').send(ACCEPTED);
  };

  const list = async (request: FastifyRequest, reply: FastifyReply, namespace?: string) => {
    const { namespaces } = store.load(request.tenant);
    const shown = namespace === undefined ? namespaces : namespaces.filter((ns) => ns.namespace === namespace);
    if (shown.length === 0) throw new HttpError(404, 'no rule groups found');
    return sendYaml(reply, formatNamespacesYaml(shown));
  };

  const getGroup = async (request: GroupRequest, reply: FastifyReply) => {
    const namespace = namespaceParam(request.params.namespace);
    const found = store
      .load(request.tenant)
      .namespaces.find((ns) => ns.namespace === namespace)
      ?.groups.find((g) => g.name === request.params.groupName);
    // Grafana probes `rules/test/test` and reads this 404 as "the ruler API can edit rules".
    if (found === undefined) throw new HttpError(404, 'group does not exist');
    return sendYaml(reply, formatRuleGroupYaml(found));
  };

  const createGroup = async (request: NamespaceRequest, reply: FastifyReply) => {
    const namespace = namespaceParam(request.params.namespace);
    const body = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '';
    try {
      store.setGroup(request.tenant, namespace, parseRuleGroup(body));
    } catch (err) {
      if (err instanceof RuleValidationError || err instanceof RuleFileConflictError) throw new HttpError(400, err.message);
      throw err;
    }
    return accepted(request, reply);
  };

  const deleteNamespace = async (request: NamespaceRequest, reply: FastifyReply) => {
    if (!store.deleteNamespace(request.tenant, namespaceParam(request.params.namespace))) {
      throw new HttpError(404, 'group namespace does not exist');
    }
    return accepted(request, reply);
  };

  const deleteGroup = async (request: GroupRequest, reply: FastifyReply) => {
    const namespace = namespaceParam(request.params.namespace);
    try {
      if (!store.deleteGroup(request.tenant, namespace, request.params.groupName)) throw new HttpError(404, 'group does not exist');
    } catch (err) {
      if (err instanceof RuleFileConflictError) throw new HttpError(400, err.message);
      throw err;
    }
    return accepted(request, reply);
  };

  // Loki reads the POST body whatever its Content-Type; `curl --data-binary` without a header
  // says application/x-www-form-urlencoded, which the app-wide parser would turn into a form.
  // This encapsulated scope takes every body as raw bytes.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    for (const prefix of PREFIXES) {
      scope.get(prefix, async (request, reply) => list(request, reply));
      scope.get(`${prefix}/:namespace`, async (request: NamespaceRequest, reply) => list(request, reply, namespaceParam(request.params.namespace)));
      scope.get(`${prefix}/:namespace/:groupName`, getGroup);
      scope.post(`${prefix}/:namespace`, createGroup);
      scope.delete(`${prefix}/:namespace`, deleteNamespace);
      scope.delete(`${prefix}/:namespace/:groupName`, deleteGroup);
    }
  });
}

/** Fastify has already URL-unescaped the parameter; what is left must be a plain file name. */
function namespaceParam(namespace: string): string {
  const problem = validateNamespace(namespace);
  if (problem !== undefined) throw new HttpError(400, `invalid namespace: ${problem}`);
  return namespace;
}

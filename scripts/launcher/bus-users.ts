/**
 * Each service's NATS user, what it publishes and the subjects its listeners consume, from
 * services.json: the accounts of the local server and of infra/k8s nats.conf are made from this
 * list (scripts/test/services-manifest.test.ts checks it against the services' code).
 */
export { busUsers } from "../services";

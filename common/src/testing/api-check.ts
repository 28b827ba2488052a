// Jest set-up of the service projects (`setupFilesAfterEnv`): every supertest response their
// tests receive must match the OpenAPI document.
import { installApiResponseCheck } from "./openapi";

installApiResponseCheck();

/** The JWT key every service gets in tests, so that a cookie signed here is accepted there. */
export const testJwtKey = "test-jwt-key-0123456789abcdef";

import { describe, expect, it } from "vitest";
import { MASK, maskSettings, maskString } from "./redact.ts";

describe("maskSettings", () => {
  it("masks values of secret-named keys at any depth", () => {
    expect(
      maskSettings({
        ttl: 30,
        password: "a",
        superuser_password: "b",
        PGPASSWORD: "c",
        nested: { auth: { replication: { password: "d" } }, api_key: "e", client_secret: "f" },
        list: [{ token: "g" }],
        unset_password: null,
      }),
    ).toEqual({
      ttl: 30,
      password: MASK,
      superuser_password: MASK,
      PGPASSWORD: MASK,
      nested: { auth: { replication: { password: MASK } }, api_key: MASK, client_secret: MASK },
      list: [{ token: MASK }],
      unset_password: null,
    });
  });

  it("does not modify its input", () => {
    const settings = { password: "a" };
    maskSettings(settings);
    expect(settings.password).toBe("a");
  });
});

describe("maskString", () => {
  it("masks passwords inside connection strings", () => {
    expect(maskString("postgres://app:pw@h:5432/db")).toBe(`postgres://app:${MASK}@h:5432/db`);
    expect(maskString("host=h user=u password=pw dbname=d")).toBe(`host=h user=u password=${MASK} dbname=d`);
    expect(maskString("password='p w' port=1")).toBe(`password=${MASK} port=1`);
    expect(maskString("postgres://app@h/db")).toBe("postgres://app@h/db");
  });
});

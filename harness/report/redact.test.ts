import { describe, expect, it } from "vitest";
import { MASK, maskSettings, maskString, maskText } from "./redact.ts";

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

describe("maskText", () => {
  it("masks secret-named keys in YAML, JSON, logs and environment dumps", () => {
    expect(maskText("superuser:\n  password: hunter2\n  username: postgres")).toBe(
      `superuser:\n  password: ${MASK}\n  username: postgres`,
    );
    expect(maskText(`{"api_key": "abc def", "ttl": 30}`)).toBe(`{"api_key": ${MASK}, "ttl": 30}`);
    expect(maskText("PGPASSWORD=s3cret pg_rewind")).toBe(`PGPASSWORD=${MASK} pg_rewind`);
    expect(maskText("running pg_rewind from dbname=postgres user=rewinder password='x y' host=h")).toBe(
      `running pg_rewind from dbname=postgres user=rewinder password=${MASK} host=h`,
    );
    expect(maskText("postgres://u:pw@h/db")).toBe(`postgres://u:${MASK}@h/db`);
  });

  it("leaves prose about passwords and a key without a value alone", () => {
    expect(maskText("FATAL:  password authentication failed for user x")).toBe(
      "FATAL:  password authentication failed for user x",
    );
    expect(maskText("password:\n  next: 1")).toBe("password:\n  next: 1");
  });
});

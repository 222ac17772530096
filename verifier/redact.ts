// The one place that knows what a credential looks like. Every report (terminal, Markdown, --json),
// every error line on stderr and every snapshot file goes through here, so a secret that reached
// the model by accident (a token in an annotation, an API error echoing the Authorization header)
// still never leaves the process. A removed value becomes a marker saying what was removed, never
// a part of the value.

/** The marker that replaces a removed value: "[redacted: <what>]". */
export const redactedMarker = (what: string) => `[redacted: ${what}]`;

/** Words that, ending a field or variable name, make its value a credential (KUBELET_KEY, KUBE_PROXY_TOKEN, client-key-data, DB_PASSWORD). */
const SENSITIVE_NAME = /(?:password|passwd|secret|token|credentials?|private[_-]?key|api[_-]?key|access[_-]?key|client[_-]key(?:[_-]data)?|[_-]key)$/i;
/** Names that end like a credential but hold none (API paging cursors). */
const NOT_SENSITIVE = /(?:page[_-]?token|continue[_-]?token)$/i;

/** True for a field or variable name whose value is a credential by its name alone. */
export function isSensitiveName(name: string): boolean {
  return SENSITIVE_NAME.test(name) && !NOT_SENSITIVE.test(name);
}

interface Rule {
  what: string;
  pattern: RegExp;
  replace: (match: string, ...groups: string[]) => string;
}

// Values already replaced are never matched again, so redacting twice changes nothing.
const NOT_MARKED = "(?!\\[redacted)";

const RULES: Rule[] = [
  {
    // PEM blocks (keys, certificates); a cut block runs to the end of its string (a quote) or text
    what: "PEM block",
    pattern: /-----BEGIN ([A-Z0-9 ]{1,40})-----[\s\S]*?(?:-----END \1-----|(?=["'`])|$)/g,
    replace: (_m, label) => redactedMarker(`PEM ${label!.trim().toLowerCase()}`),
  },
  {
    // the same PEM block base64-encoded ("-----BEGIN " is "LS0tLS1CRUdJTi"): kubeconfig *-data, kube-env keys
    what: "base64 PEM block",
    pattern: /LS0tLS1CRUdJTi[A-Za-z0-9+/=]*/g,
    replace: () => redactedMarker("base64 PEM block"),
  },
  {
    what: "Authorization header",
    pattern: new RegExp(`\\b(authorization)(["']?\\s*[:=]\\s*["']?)(?![\\s"'])${NOT_MARKED}(?!Bearer \\$)[^"'\\r\\n,;}\\\\]+`, "gi"),
    replace: (_m, name, sep) => `${name}${sep}${redactedMarker("Authorization header")}`,
  },
  {
    what: "bearer token",
    pattern: new RegExp(`\\b(bearer)\\s+${NOT_MARKED}[A-Za-z0-9._~+/=-]{6,}`, "gi"),
    replace: (_m, word) => `${word} ${redactedMarker("bearer token")}`,
  },
  {
    what: "Google access token",
    pattern: /\bya29\.[A-Za-z0-9._-]+/g,
    replace: () => redactedMarker("Google access token"),
  },
  {
    what: "JWT",
    pattern: /\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g,
    replace: () => redactedMarker("JWT"),
  },
  {
    // NAME: value / NAME=value / "name": "value" where NAME ends like a credential (kube-env, env
    // files, kubeconfig `token:`), also inside JSON-escaped text (\"token\": \"...\")
    what: "credential-named value",
    pattern: new RegExp(
      `(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]*(?:password|passwd|secret|token|credentials?|private[_-]?key|api[_-]?key|access[_-]?key|client[_-]key(?:[_-]data)?|[_-]key))(\\\\?["']?\\s*[:=]\\s*\\\\?["']?)${NOT_MARKED}([^\\s"'\\\\,;}&]+)`,
      "gi",
    ),
    // Prose ("sshPrivateKey: not a PEM key", "token: missing") is not a credential: a value must be
    // 6+ characters and hold a non-letter, or be 16+ letters long.
    replace: (match, name, sep, value) =>
      isSensitiveName(name!) && value!.length >= 6 && (/[^A-Za-z]/.test(value!) || value!.length >= 16) ? `${name}${sep}${redactedMarker(`value of ${name}`)}` : match,
  },
];

/**
 * Replaces every credential-looking value in `text` with a marker. `found`, when given, collects
 * what was removed (kinds such as "PEM block", "bearer token"; never the value).
 */
export function redactText(text: string, found?: Set<string>): string {
  let out = text;
  for (const rule of RULES) {
    out = out.replace(rule.pattern, (...args: unknown[]) => {
      const replaced = rule.replace(...(args as [string, ...string[]]));
      if (replaced !== args[0]) found?.add(rule.what);
      return replaced;
    });
  }
  return out;
}

/** Where a redaction happened in a structured value: the field's path and what was removed. */
export interface RedactedField {
  /** e.g. "metadata.annotations[example.com/kubeconfig]", "spec.containers[0].env[1].value" */
  field: string;
  /** e.g. "PEM block", "value of KUBE_PROXY_TOKEN" */
  what: string;
}

const fieldPath = (parent: string, key: string) => (/^[A-Za-z_$][\w$]*$/.test(key) ? (parent ? `${parent}.${key}` : key) : `${parent}[${key}]`);

/**
 * A copy of `value` (JSON-like: objects, arrays, strings, numbers) with every credential removed:
 * strings under a credential-named key (isSensitiveName), the `value` of a `{name|key, value}` pair
 * whose name is one (env vars, metadata items), and credential-looking text anywhere (redactText).
 * Each removal is pushed to `removed` with its path. Depth is bounded by the caller's parser.
 */
export function redactValue<T>(value: T, removed: RedactedField[] = [], path = ""): T {
  if (typeof value === "string") {
    const found = new Set<string>();
    const out = redactText(value, found);
    for (const what of found) removed.push({ field: path || "(value)", what });
    return out as T;
  }
  if (Array.isArray(value)) return value.map((v, i) => redactValue(v, removed, `${path}[${i}]`)) as T;
  if (typeof value !== "object" || value === null) return value;
  const record = value as Record<string, unknown>;
  const pairName = typeof record.name === "string" ? record.name : typeof record.key === "string" ? record.key : undefined;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(record)) {
    const here = fieldPath(path, key);
    const named = isSensitiveName(key) ? key : key === "value" && pairName !== undefined && isSensitiveName(pairName) ? pairName : undefined;
    if (named !== undefined && typeof v === "string" && v !== "" && !v.startsWith("[redacted")) {
      out[key] = redactedMarker(`value of ${named}`);
      removed.push({ field: here, what: `value of ${named}` });
    } else {
      out[key] = redactValue(v, removed, here);
    }
  }
  return out as T;
}

// A parsed JSON tree walked depth first: the guards read DuckDB's json_serialize_sql parse of a statement with it.
export type JsonNode = Record<string, unknown>;

/** Calls `visit` on every object of the tree, parents before their children. */
export function walkObjects(value: unknown, visit: (node: JsonNode) => void): void {
  if (Array.isArray(value)) for (const item of value) walkObjects(item, visit);
  else if (value !== null && typeof value === 'object') {
    visit(value as JsonNode);
    for (const child of Object.values(value)) walkObjects(child, visit);
  }
}

// Validates rendered Kubernetes manifests offline and prints them as one JSON array (scripts/check-k8s.sh runs it).
//   node validate.mjs RENDERED.yaml > objects.json
// Each object is checked twice: by the kubernetes-models validator of its apiVersion and kind (types, formats,
// required fields, enums), and field by field against that model's declared properties, so a misspelt field
// (runAsNonroot) fails here instead of being dropped by the API server. Errors go to stderr; the exit code is 1.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const nodeModules = join(dirname(fileURLToPath(import.meta.url)), "node_modules");
const declarations = new Map();

/** The properties the .d.ts of a model declares: name -> the declaration file of its object type, or null. */
function properties(file) {
  if (declarations.has(file)) return declarations.get(file);
  const text = readFileSync(file, "utf8");
  const imports = new Map();
  for (const [, name, from] of text.matchAll(/import \{ (\w+) \} from "([^"]+)";/g)) {
    const path = from.startsWith(".") ? join(dirname(file), from.replace(/\.js$/, "")) : join(nodeModules, from);
    imports.set(name, path + ".d.ts");
  }
  const body = text.match(/export interface I\w+(?: extends \w+)? \{\n([\s\S]*?)\n\}/);
  const result = body ? new Map() : null;
  for (const [, name, type] of body ? body[1].matchAll(/^ {4}"([^"]+)"\??: (.*)$/gm) : []) {
    const reference = type.startsWith("{") ? null : type.match(/\b(I\w+)\b/);
    const target = reference && imports.get(reference[1]);
    result.set(name, target && existsSync(target) ? target : null);
  }
  declarations.set(file, result);
  return result;
}

function unknownFields(value, file, path, errors) {
  const declared = file && properties(file);
  if (!declared || value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => unknownFields(item, file, `${path}[${i}]`, errors));
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    if (!declared.has(key)) errors.push(`${path}.${key}: unknown field`);
    else unknownFields(child, declared.get(key), `${path}.${key}`, errors);
  }
}

const [, , input] = process.argv;
const objects = [];
const errors = [];
for (const document of parseAllDocuments(readFileSync(input, "utf8"))) {
  if (document.errors.length > 0) {
    errors.push(`${input}: ${document.errors[0].message}`);
    continue;
  }
  const object = document.toJSON();
  if (object === null) continue;
  if (object.kind === "Secret" && object.data) {
    // kustomize wraps long base64 values over lines; the API server's base64 decoder skips line breaks, the schema's does not.
    for (const key of Object.keys(object.data)) object.data[key] = String(object.data[key]).replace(/[\r\n]/g, "");
  }
  const name = `${object.kind ?? "?"}/${object.metadata?.name ?? "?"}`;
  const [group, version] = String(object.apiVersion ?? "").includes("/") ? object.apiVersion.split("/") : [null, object.apiVersion];
  const base = join(nodeModules, "kubernetes-models", ...(group ? [group, version] : [String(version)]), String(object.kind));
  if (!existsSync(base + ".js")) {
    errors.push(`${name}: no schema for apiVersion ${object.apiVersion} kind ${object.kind}`);
    continue;
  }
  const { [object.kind]: Model } = await import(base + ".js");
  try {
    new Model(object).validate();
  } catch (e) {
    errors.push(`${name}: ${e.message}`);
  }
  const unknown = [];
  unknownFields(object, base + ".d.ts", name, unknown);
  errors.push(...unknown);
  objects.push(object);
}
if (errors.length > 0) {
  for (const error of errors) console.error(error);
  process.exit(1);
}
process.stdout.write(JSON.stringify(objects, null, 2) + "\n");

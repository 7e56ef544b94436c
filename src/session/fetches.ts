/** What a run takes and gives: the fetch structure, feeds, and their conversion to NDArrays of the right shape. */
import {
  ArrayValue,
  DTypeError,
  FeedError,
  formatShape,
  Graph,
  GraphError,
  isFullyKnown,
  LazygradError,
  NDArray,
  Node,
  normalizedBool,
  ShapeError,
  shapeMatches,
  Tensor,
  TypedArray,
  dtypeOfArray,
  sizeOf,
} from '../graph';

/** What can be fetched: a tensor, or arrays/objects of fetches; null entries give null. */
export type Fetch = Tensor | null | readonly Fetch[] | { readonly [key: string]: Fetch };
/** The result mirrors the fetch structure, with an NDArray for each tensor. */
export type FetchResult<F> = F extends Tensor
  ? NDArray
  : F extends null
    ? null
    : F extends readonly unknown[]
      ? { -readonly [K in keyof F]: FetchResult<F[K]> }
      : F extends { readonly [key: string]: unknown }
        ? { -readonly [K in keyof F]: FetchResult<F[K]> }
        : never;
/** Feeds by placeholder (or node) name, or a Map from tensors (or names) to values. */
export type Feeds = { readonly [name: string]: ArrayValue } | ReadonlyMap<Tensor | string, ArrayValue>;

/** A fetch or feed must be a tensor of the session's graph. */
export function checkGraph(graph: Graph, t: Tensor, role: string): void {
  if (!(t instanceof Tensor)) throw new GraphError(`Session.run: a ${role} is not a Tensor (got ${typeof t})`);
  if (t.graph !== graph) {
    throw new GraphError(`Session.run: ${role} '${t.name}' belongs to a different graph than this session's`);
  }
}

/** Feeds by node id, each checked against its node's dtype and shape. */
export function normalizeFeeds(graph: Graph, feeds: Feeds | undefined): Map<number, NDArray> {
  const out = new Map<number, NDArray>();
  if (feeds === undefined) return out;
  const entries: [Tensor | string, ArrayValue][] =
    feeds instanceof Map ? [...feeds.entries()] : Object.entries(feeds as { [name: string]: ArrayValue });
  for (const [key, value] of entries) {
    let tensor: Tensor | undefined;
    if (typeof key === 'string') {
      tensor = graph.byName(key);
      if (tensor === undefined) {
        const valid =
          graph
            .placeholders()
            .map((p) => `'${p.name}'`)
            .join(', ') || '(none)';
        throw new FeedError(`Session.run: feed '${key}' names no node of the graph; placeholders are ${valid}`);
      }
    } else {
      tensor = key;
      checkGraph(graph, tensor, 'feed');
    }
    out.set(tensor.id, toFeedValue(tensor.node, value));
  }
  return out;
}

/**
 * The shape of a flat typed-array feed: the placeholder's own shape when its known dims leave exactly one size for
 * at most one unknown dim, else 1-D (which then fails the shape check with a clear message).
 */
function flatShape(node: Node, length: number): number[] {
  const unknown = node.shape.filter((d) => d === null).length;
  const known = node.shape.reduce<number>((p, d) => p * (d ?? 1), 1);
  if (unknown > 1 || (unknown === 1 && (known === 0 || length % known !== 0))) return [length];
  const shape = node.shape.map((d) => d ?? length / known);
  return sizeOf(shape) === length ? shape : [length];
}

function toFeedValue(node: Node, value: ArrayValue): NDArray {
  let array: NDArray;
  if (value instanceof NDArray) {
    if (value.dtype !== node.dtype) {
      throw new DTypeError(
        `Session.run: feed for ${node.op} '${node.name}' is ${value.dtype}, expected ${node.dtype}; ` +
          `convert it with value.astype('${node.dtype}')`,
      );
    }
    array = value;
  } else if (dtypeOfArray(value) === node.dtype) {
    // A typed array of the right dtype is wrapped, not copied: shaped as the placeholder when that is unambiguous.
    array = new NDArray(value as TypedArray, flatShape(node, (value as TypedArray).length), node.dtype);
  } else {
    try {
      array = NDArray.from(value, node.dtype);
    } catch (error) {
      if (error instanceof LazygradError) {
        const ErrorClass = error.constructor as new (message: string) => LazygradError;
        throw new ErrorClass(`Session.run: feed for ${node.op} '${node.name}': ${error.message}`);
      }
      throw error;
    }
  }
  if (!shapeMatches(array.shape, node.shape)) {
    throw new ShapeError(
      `Session.run: feed for ${node.op} '${node.name}' has shape ${formatShape(array.shape)}, expected ` +
        `${formatShape(node.shape)}${isFullyKnown(node.shape) ? '' : ' (? = any size)'}`,
    );
  }
  // A bool feed's bytes other than 0/1 mean true (as in tfjs): kernels see 0/1 only.
  return normalizedBool(array);
}

export function collectFetches(fetch: Fetch, out: Tensor[]): void {
  const stack: Fetch[] = [fetch];
  while (stack.length > 0) {
    const item = stack.pop() as Fetch;
    if (item === null) continue;
    if (item instanceof Tensor) out.push(item);
    else if (Array.isArray(item)) for (let i = item.length - 1; i >= 0; i--) stack.push(item[i] as Fetch);
    else if (typeof item === 'object') {
      const values = Object.values(item as { [key: string]: Fetch });
      for (let i = values.length - 1; i >= 0; i--) stack.push(values[i]);
    } else throw new GraphError(`Session.run: cannot fetch a ${typeof item}; fetch Tensors, arrays or objects of them`);
  }
}

export function buildResult(fetch: Fetch, values: ReadonlyMap<number, NDArray>): unknown {
  if (fetch === null) return null;
  if (fetch instanceof Tensor) return values.get(fetch.id);
  if (Array.isArray(fetch)) return fetch.map((f) => buildResult(f as Fetch, values));
  const out: { [key: string]: unknown } = {};
  for (const [key, value] of Object.entries(fetch as { [key: string]: Fetch })) out[key] = buildResult(value, values);
  return out;
}

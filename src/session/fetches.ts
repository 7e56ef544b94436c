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
  DType,
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
  // A Map is read as it is (no copy of its entries per run).
  const entries: Iterable<[Tensor | string, ArrayValue]> =
    feeds instanceof Map ? feeds.entries() : Object.entries(feeds as { [name: string]: ArrayValue });
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
 * The shape of a flat typed-array feed. A typed array has no shape of its own, so it fills a placeholder only when
 * that leaves no choice: a rank-1 placeholder (its length), or a fully known shape of the same size. Otherwise
 * (e.g. 6 numbers for [?, 3]: [2, 3]? [6]?) it is a ShapeError asking for an NDArray with a shape.
 */
function flatShape(node: Node, data: TypedArray, dtype: DType): number[] {
  if (node.shape.length === 1) return [data.length];
  const converted = dtype === node.dtype ? '' : ` (${dtype}, converted to ${node.dtype})`;
  const what =
    `Session.run: feed for ${node.op} '${node.name}' (${node.dtype}${formatShape(node.shape)}) is a flat ` +
    `${data.constructor.name} of ${data.length} elements${converted}`;
  const hint = 'a flat typed array needs a shape: new NDArray(data, shape)';
  if (!isFullyKnown(node.shape)) {
    throw new ShapeError(
      `${what}; ${hint} (a typed array alone fills only a rank-1 placeholder or one of fully known shape)`,
    );
  }
  const size = sizeOf(node.shape as number[]);
  if (size !== data.length) throw new ShapeError(`${what}, but ${formatShape(node.shape)} holds ${size}; ${hint}`);
  return node.shape as number[];
}

/** `NDArray.from(value, node.dtype)`, its errors prefixed with the feed they are about. */
function converted(node: Node, value: ArrayValue): NDArray {
  try {
    return NDArray.from(value, node.dtype);
  } catch (error) {
    if (error instanceof LazygradError) {
      const ErrorClass = error.constructor as new (message: string) => LazygradError;
      throw new ErrorClass(`Session.run: feed for ${node.op} '${node.name}': ${error.message}`);
    }
    throw error;
  }
}

function toFeedValue(node: Node, value: ArrayValue): NDArray {
  let array: NDArray;
  const typed = value instanceof NDArray ? null : dtypeOfArray(value);
  if (value instanceof NDArray) {
    if (value.dtype !== node.dtype) {
      throw new DTypeError(
        `Session.run: feed for ${node.op} '${node.name}' is ${value.dtype}, expected ${node.dtype}; ` +
          `convert it with value.astype('${node.dtype}')`,
      );
    }
    array = value;
  } else if (typed !== null) {
    const shape = flatShape(node, value as TypedArray, typed);
    // A typed array of the right dtype is wrapped, not copied; another one is converted, as a nested array is.
    const data = typed === node.dtype ? (value as TypedArray) : converted(node, value).data;
    array = new NDArray(data, shape, node.dtype);
  } else {
    array = converted(node, value);
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

/** A fetch structure read once: its tensors in order, and its shape, from which the result is built. */
export interface FetchTree {
  readonly tensors: Tensor[];
  /** Each tensor, null, array or object of the structure; a sub-structure reached twice is one item. */
  readonly items: readonly FetchItem[];
  /** Item indices with every item after the items it contains: the order results are built in. */
  readonly order: readonly number[];
}

interface ContainerItem {
  readonly kind: 'array' | 'object';
  readonly keys: readonly string[];
  readonly children: number[];
}

type FetchItem = { readonly kind: 'tensor'; readonly id: number } | { readonly kind: 'null' } | ContainerItem;

/** A container of the walk, while its entries are being read. */
interface Open {
  readonly value: object;
  readonly index: number;
  readonly isArray: boolean;
  readonly entries: readonly [string, unknown][];
  next: number;
}

/** `fetches.a[0]`: the path to the entry being read in the innermost of the first `depth` open containers. */
function pathOf(open: readonly Open[], depth: number): string {
  let path = 'fetches';
  for (let i = 0; i < depth; i++) {
    const key = open[i].entries[open[i].next - 1][0];
    if (open[i].isArray) path += `[${key}]`;
    else path += /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  }
  return path;
}

/**
 * Reads a fetch structure once (each getter runs once, so the result matches what was collected), iteratively (any
 * depth), sharing a sub-structure reached twice; a structure that contains itself is a GraphError naming the path.
 */
export function readFetches(fetch: Fetch): FetchTree {
  const tensors: Tensor[] = [];
  const items: FetchItem[] = [];
  const order: number[] = [];
  const seen = new Map<object, number>();
  const open: Open[] = [];
  const onPath = new Set<object>();
  // Adds an item for `value`, the entry being read in the innermost open container; a container is opened.
  const visit = (value: unknown): number => {
    if (value === null || value instanceof Tensor) {
      if (value !== null) tensors.push(value);
      items.push(value === null ? { kind: 'null' } : { kind: 'tensor', id: value.id });
      order.push(items.length - 1);
      return items.length - 1;
    }
    if (typeof value !== 'object') {
      throw new GraphError(
        `Session.run: cannot fetch a ${typeof value} (at ${pathOf(open, open.length)}); fetch Tensors, arrays or ` +
          'objects of them',
      );
    }
    const known = seen.get(value);
    if (known !== undefined) {
      if (!onPath.has(value)) return known;
      const depth = open.findIndex((o) => o.value === value);
      throw new GraphError(
        `Session.run: the fetch structure contains itself: ${pathOf(open, open.length)} is ` +
          `${pathOf(open, depth)}; fetch a tree of Tensors, arrays and objects (a sub-structure may appear twice, ` +
          'but not inside itself)',
      );
    }
    const isArray = Array.isArray(value);
    const entries: [string, unknown][] = isArray
      ? Array.from({ length: (value as unknown[]).length }, (_, i) => [String(i), (value as unknown[])[i]])
      : Object.entries(value);
    items.push({ kind: isArray ? 'array' : 'object', keys: entries.map((e) => e[0]), children: [] });
    const index = items.length - 1;
    seen.set(value, index);
    open.push({ value, index, isArray, entries, next: 0 });
    onPath.add(value);
    return index;
  };
  visit(fetch);
  while (open.length > 0) {
    const top = open[open.length - 1];
    if (top.next === top.entries.length) {
      open.pop();
      onPath.delete(top.value);
      order.push(top.index);
      continue;
    }
    const value = top.entries[top.next++][1];
    (items[top.index] as ContainerItem).children.push(visit(value));
  }
  return { tensors, items, order };
}

/**
 * The result of a run: the fetch structure with an NDArray for each tensor. Objects keep every own key of the
 * fetch object as an own data property, `__proto__` included (set with defineProperty, so it is never taken as
 * the prototype); their prototype is Object.prototype, as for any object literal.
 */
export function buildResult(tree: FetchTree, values: ReadonlyMap<number, NDArray>): unknown {
  const results = new Array<unknown>(tree.items.length);
  for (const index of tree.order) {
    const item = tree.items[index];
    if (item.kind === 'tensor') results[index] = values.get(item.id);
    else if (item.kind === 'null') results[index] = null;
    else if (item.kind === 'array') results[index] = item.children.map((c) => results[c]);
    else {
      const out: { [key: string]: unknown } = {};
      item.children.forEach((c, k) => {
        Object.defineProperty(out, item.keys[k], {
          value: results[c],
          writable: true,
          enumerable: true,
          configurable: true,
        });
      });
      results[index] = out;
    }
  }
  return results[0];
}

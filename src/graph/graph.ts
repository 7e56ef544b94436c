import { DType, isDType, isFloat } from './dtype';
import { DTypeError, GraphError, LazygradError, ShapeError } from './errors';
import { ArrayValue, NDArray } from './ndarray';
import { attrsProblem, nameProblem, quoteName, shapeProblem } from './rules';
import { formatShape, Shape, shapesEqual } from './shape';
import { canonicalJSON, formatNode, formatNodes } from './textir';

export { canonicalJSON, formatNode, formatNodes } from './textir';

/** Node attributes are plain JSON, so the JSON and ONNX exports are direct. */
export type AttrValue = number | string | boolean | null | readonly AttrValue[] | { readonly [key: string]: AttrValue };
export type Attrs = { readonly [key: string]: AttrValue };

/**
 * `array` itself when it has an entry at `index`, else a copy of it at least twice as long (amortized growth), the
 * new entries `fill`. For the per-node and per-name typed arrays that grow as nodes are added.
 */
export function withRoom<T extends Int32Array | Uint8Array>(array: T, index: number, fill = 0): T {
  if (index < array.length) return array;
  const grown = new (array.constructor as new (length: number) => T)(Math.max(2 * array.length, index + 1));
  grown.set(array);
  if (fill !== 0) grown.fill(fill, array.length);
  return grown;
}

/** One node of the IR. Nodes are never mutated after creation; inputs always have smaller ids. */
export interface Node {
  readonly id: number;
  readonly op: string;
  readonly inputs: readonly number[];
  readonly attrs: Attrs;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly name: string;
  /** The value of a constant, or the initial value of a variable. */
  readonly value?: NDArray;
}

/** What the ops layer hands the graph to add: an op already checked and inferred. */
export interface NodeSpec {
  op: string;
  inputs: readonly number[];
  attrs?: Attrs;
  dtype: DType;
  shape: Shape;
  name?: string;
  value?: NDArray;
  /** Stateful nodes (placeholders, variables, assigns, random ops) are never merged with an equal node. */
  stateful?: boolean;
  /** A placeholder whose name may be suffixed to be unique (a region's capture of an outer tensor). */
  renameable?: boolean;
}

/**
 * What `g.variable` accepts as an initializer (src/train's initializers are such objects): it makes a variable's
 * initial value for a shape and dtype when the graph is built. `name` is the variable's full name, from which an
 * unseeded initializer may derive its seed.
 */
export interface VariableInitializer {
  readonly kind: 'initializer';
  apply(shape: readonly number[], dtype: DType, name: string): NDArray;
}

/** Options of `g.variable`: whether optimizers train it by default, its dtype, and its shape (with an initializer). */
export interface VariableOptions {
  trainable?: boolean;
  dtype?: DType;
  shape?: readonly number[];
}

function isVariableInitializer(value: unknown): value is VariableInitializer {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'initializer' &&
    typeof (value as { apply?: unknown }).apply === 'function'
  );
}

/** Constants up to this many elements are interned by value, so `add(x, 1)` twice shares one constant. */
const INTERN_CONSTANT_LIMIT = 64;

/**
 * An append-only graph of nodes. Adding a node equal to an existing one (same op, inputs and attrs)
 * returns the existing node, so common subexpressions are shared from the start.
 *
 * @example
 * const g = new Graph();
 * const x = g.placeholder('x', [null, 3]);
 * const w = g.variable('w', NDArray.from([[1], [2], [3]]));
 */
export class Graph {
  private readonly nodeList: Node[] = [];
  /**
   * The intern table: the ids of the stateless nodes, open addressing (linear probing) on a structural hash of each
   * (op, inputs, attrs, dtype, shape, value). A slot is two entries, the id (-1: empty) and its hash beside it, so a
   * probe reads one place in memory, not the table and then a table of hashes. Lookups compare the candidates field by
   * field. A typed array, not a Map: no boxed keys, no garbage per node.
   */
  private internTable = new Int32Array(128).fill(-1);
  private internCount = 0;
  /**
   * Per interned node: the hash of what a copy of it keeps (op, dtype, shape, attrs, value; `contentHash`) and its
   * attrs' canonical JSON, so that a copy (`copyNode`, `compacted`) hashes only its new inputs.
   */
  private contentHashes = new Int32Array(64);
  private readonly attrsKeyList: string[] = [];
  /**
   * The names: `names` numbers every name given in this graph and in the graphs it was copied from or copied to
   * (`inheritNames`: one space per pipeline), `nameIndexOf[id]` is node id's name's number and `idOfIndex[number]`
   * the node here of that name (-1, or past the end: none). A copy that keeps its source node's name takes its
   * number without looking the string up. Null after `settleNames` until first use (then refilled from the nodes).
   */
  private names: NameSpace | null = new NameSpace();
  private nameIndexOf = new Int32Array(64);
  private idOfIndex = new Int32Array(64).fill(-1);
  /** Whether the name space is shared with other graphs (`inheritNames`). */
  private namesShared = false;
  /** Per node: 1 when it is interned (not stateful). */
  private stateless = new Uint8Array(64);
  /** Nodes below this id are in the intern table (a compacted graph fills it on first use). */
  private indexedUpTo = 0;
  private readonly nameCounters = new Map<string, number>();
  private readonly scopes: string[] = [];
  private prefix = '';
  private readonly tensors: Tensor[] = [];
  private readonly attachments = new Map<number, unknown>();
  /**
   * Regions (the bodies of cond, whileLoop and scan) are built as child graphs: `parent` is the graph a region was
   * opened in (null for a top-level graph). While a region is open, ops built from tensors of its ancestors go into
   * it, and the outer tensors they read are captured: each becomes a placeholder of the region (see `lift`).
   */
  readonly parent: Graph | null;
  /** On a top-level graph: the regions being built, innermost last. */
  private readonly openRegions: Graph[] = [];
  /** On a region: the ids (in the parent graph) of the tensors it captured, in order, and their placeholders here. */
  private readonly captureOf = new Map<number, number>();
  private readonly capturedList: number[] = [];

  constructor(parent: Graph | null = null) {
    this.parent = parent;
  }

  /** All nodes in id order (which is a topological order). */
  get nodes(): readonly Node[] {
    return this.nodeList;
  }

  get size(): number {
    return this.nodeList.length;
  }

  node(id: number): Node {
    const node = this.nodeList[id];
    if (node === undefined) throw new GraphError(`Graph: no node with id ${id} (the graph has ${this.size} nodes)`);
    return node;
  }

  /** The tensor handle of a node (one handle per node, created on demand). */
  tensor(id: number): Tensor {
    const node = this.node(id);
    let handle = this.tensors[id];
    if (handle === undefined) {
      handle = new Tensor(this, node);
      this.tensors[id] = handle;
    }
    return handle;
  }

  /**
   * Opaque data the layers above keep with a node, outside its JSON attrs (a custom gradient's function).
   * The IR never looks inside it.
   */
  attach(id: number, value: unknown): void {
    this.node(id);
    this.attachments.set(id, value);
  }

  attachment(id: number): unknown {
    return this.attachments.get(id);
  }

  /** Looks a node up by its unique name. */
  byName(name: string): Tensor | undefined {
    const id = this.idOfName(name);
    return id === -1 ? undefined : this.tensor(id);
  }

  /**
   * A placeholder: an input fed at run time. A null dim is unknown until fed.
   *
   * @example g.placeholder('x', [null, 784])
   */
  placeholder(name: string, shape: Shape = [], dtype: DType = 'float32'): Tensor {
    checkName('placeholder', name);
    checkDType('placeholder', name, dtype);
    checkShape('placeholder', name, shape);
    return this.addNode({ op: 'placeholder', inputs: [], dtype, shape: [...shape], name, stateful: true });
  }

  /**
   * A constant from a number, nested array, typed array or NDArray.
   *
   * @example g.constant([1, 2, 3])
   */
  constant(value: ArrayValue, dtype?: DType, name?: string): Tensor {
    if (name !== undefined) checkName('constant', name);
    if (dtype !== undefined) checkDType('constant', name ?? 'Const', dtype);
    const array = converted(`constant '${name ?? 'Const'}'`, value, dtype);
    return this.addNode({
      op: 'constant',
      inputs: [],
      dtype: array.dtype,
      shape: [...array.shape],
      name: name ?? 'Const',
      value: array,
      stateful: array.size > INTERN_CONSTANT_LIMIT,
    });
  }

  /**
   * A variable: state that lives in each Session, starting from the initial value: a number, array or NDArray,
   * or an initializer with `{ shape }` in the options. The third argument is a dtype or
   * `{ trainable, dtype, shape }`; `trainable: false` keeps it out of `trainableVariables()` (and so out of
   * optimizers' default variable lists).
   *
   * @example g.variable('w', initializers.glorotUniform({ seed: 1 }), { shape: [784, 128] })
   */
  variable(name: string, initial: ArrayValue | VariableInitializer, options?: DType | VariableOptions): Tensor {
    checkName('variable', name);
    const settings: VariableOptions = typeof options === 'object' && options !== null ? options : { dtype: options };
    const { trainable = true, dtype, shape } = settings;
    if (typeof trainable !== 'boolean') {
      throw new GraphError(
        `variable ${quoteName(name)}: trainable must be true or false, got ${JSON.stringify(trainable)}`,
      );
    }
    if (dtype !== undefined) checkDType('variable', name, dtype);
    if (shape !== undefined && !(Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0))) {
      throw new ShapeError(
        `variable ${quoteName(name)}: invalid shape ${JSON.stringify(shape)}; a variable's shape is a list of ` +
          'non-negative integers (every dim known)',
      );
    }
    let array: NDArray;
    if (isVariableInitializer(initial)) {
      if (shape === undefined) {
        throw new ShapeError(
          `variable ${quoteName(name)}: an initializer needs the variable's shape; pass it in the options, e.g. ` +
            `g.variable(${quoteName(name)}, init, { shape: [784, 128] })`,
        );
      }
      const resolved = dtype ?? 'float32';
      array = initial.apply(shape, resolved, `${this.scopePrefix}${name}`);
      if (!(array instanceof NDArray) || array.dtype !== resolved || !shapesEqual(array.shape, shape)) {
        const got = array instanceof NDArray ? `${array.dtype}${formatShape(array.shape)}` : typeof array;
        throw new GraphError(
          `variable ${quoteName(name)}: the initializer returned ${got}, expected ${resolved}${formatShape(shape)}`,
        );
      }
    } else {
      array = converted(`variable '${name}'`, initial, dtype);
      if (shape !== undefined && !shapesEqual(array.shape, shape)) {
        throw new ShapeError(
          `variable ${quoteName(name)}: the initial value has shape ${formatShape(array.shape)}, but the options say ` +
            `${formatShape(shape)}; give a value of that shape, or an initializer`,
        );
      }
    }
    return this.addNode({
      op: 'variable',
      inputs: [],
      // Only the exception is recorded, so the text IR of ordinary (trainable) variables stays as it was.
      attrs: trainable ? {} : { trainable: false },
      dtype: array.dtype,
      shape: [...array.shape],
      name,
      value: array,
      stateful: true,
    });
  }

  /** The variable nodes of the graph, in creation order. */
  variables(): Tensor[] {
    return this.nodeList.filter((n) => n.op === 'variable').map((n) => this.tensor(n.id));
  }

  /** The variables optimizers train by default (all but those created with `trainable: false`), in creation order. */
  trainableVariables(): Tensor[] {
    return this.nodeList
      .filter((n) => n.op === 'variable' && n.attrs.trainable !== false)
      .map((n) => this.tensor(n.id));
  }

  /** The placeholder nodes of the graph, in creation order. */
  placeholders(): Tensor[] {
    return this.nodeList.filter((n) => n.op === 'placeholder').map((n) => this.tensor(n.id));
  }

  /**
   * Runs `body` with names prefixed by `scope/`.
   *
   * @example g.nameScope('layer1', () => matMul(x, w)) // named 'layer1/matMul'
   */
  nameScope<T>(scope: string, body: () => T): T {
    checkName('nameScope', scope);
    this.scopes.push(scope);
    this.prefix = `${this.scopes.join('/')}/`;
    try {
      return body();
    } finally {
      this.scopes.pop();
      this.prefix = this.scopes.length === 0 ? '' : `${this.scopes.join('/')}/`;
    }
  }

  /** The current name scope prefix ('' at top level, else 'a/b/'). */
  get scopePrefix(): string {
    return this.prefix;
  }

  /**
   * Adds a node, or returns the existing equal node. The ops layer calls this after checking inputs and
   * inferring dtype and shape; the graph itself knows nothing of op semantics.
   */
  addNode(spec: NodeSpec): Tensor {
    this.index();
    const id = this.nodeList.length;
    for (const input of spec.inputs) {
      if (!Number.isInteger(input) || input < 0 || input >= id) {
        throw new GraphError(`Graph: node '${spec.op}' has input id ${input}, which is not an earlier node`);
      }
    }
    const attrs = spec.attrs ?? {};
    // The rules every loader applies (rules.ts), so that whatever is built can be saved and loaded.
    const badShape = shapeProblem(spec.shape);
    if (badShape !== null) throw new ShapeError(`${this.what(spec)}: shape ${formatBadShape(spec.shape)} ${badShape}`);
    const badAttrs = attrsProblem(attrs);
    if (badAttrs !== null) throw new GraphError(`${this.what(spec)}: ${badAttrs.path} ${badAttrs.message}`);
    let key: number | undefined;
    let content = 0;
    let attrsKey = '';
    if (spec.stateful !== true) {
      attrsKey = isEmpty(attrs) ? '{}' : canonicalJSON(attrs);
      content = contentHash(spec.op, spec.dtype, spec.shape, spec.value, attrsKey);
      key = inputsHash(content, spec.inputs);
      const existing = this.findInterned(
        key,
        spec.op,
        spec.dtype,
        spec.inputs,
        spec.shape,
        spec.value,
        attrs,
        attrsKey,
      );
      if (existing !== -1) return this.tensor(existing);
    }
    const name = this.uniqueName(
      spec,
      (spec.op === 'placeholder' && spec.renameable !== true) || spec.op === 'variable',
    );
    const badName = nameProblem(name);
    if (badName !== null) {
      const shown = `${quoteName(name.slice(0, 200))}${name.length > 200 ? '…' : ''}`;
      throw new GraphError(`Graph: the name of ${spec.op} ${shown} ${badName}`);
    }
    // One object shape for every node (value is always present) keeps property access monomorphic.
    const node: Node = {
      id,
      op: spec.op,
      inputs: [...spec.inputs],
      attrs,
      dtype: spec.dtype,
      shape: [...spec.shape],
      name,
      value: spec.value,
    };
    this.append(node, key, content, attrsKey);
    this.claimName((this.names as NameSpace).add(name), id);
    return this.tensor(id);
  }

  /** The start of addNode's error messages (built only when there is an error: quoting a name costs). */
  private what(spec: NodeSpec): string {
    return `Graph: ${spec.op} ${quoteName(`${this.scopePrefix}${spec.name ?? spec.op}`.slice(0, 200))}`;
  }

  /**
   * Adds a copy of `node`, a node of another graph (checked when it was added there), reading `inputs` of this graph,
   * with the node's own dtype and shape; returns its id. For the passes' rebuilds, which call it only where the inputs
   * have the dtypes and shapes the node was inferred from (so re-inferring would give the same). Equal nodes merge as
   * in addNode, unless `stateful`. Cheaper than addNode: no Tensor handle, the attrs' rules and key not recomputed,
   * and `inputs` is kept as the node's own array (the caller gives it up).
   */
  copyNode(node: Node, inputs: readonly number[], stateful: boolean, from?: Graph): number {
    this.index();
    const id = this.nodeList.length;
    for (const input of inputs) {
      if (!Number.isInteger(input) || input < 0 || input >= id) {
        throw new GraphError(`Graph: node '${node.op}' has input id ${input}, which is not an earlier node`);
      }
    }
    let key: number | undefined;
    let content = 0;
    let attrsKey = '';
    if (!stateful) {
      // The source's hash of the node's content and its attrs' key, when it has them.
      if (from !== undefined && from.nodeList[node.id] === node && from.stateless[node.id] === 1) {
        content = from.contentHashes[node.id];
        attrsKey = from.attrsKeyList[node.id];
      } else {
        attrsKey = attrsKeyOf(node.attrs);
        content = contentHash(node.op, node.dtype, node.shape, node.value, attrsKey);
      }
      key = inputsHash(content, inputs);
      const existing = this.findInterned(
        key,
        node.op,
        node.dtype,
        inputs,
        node.shape,
        node.value,
        node.attrs,
        attrsKey,
      );
      if (existing !== -1) return existing;
    }
    // A node of a graph of the same name space (the source of a rebuild), under its own name: its name's number is
    // known, so whether this graph has taken the name is one array read, no string looked up.
    const index =
      from !== undefined &&
      from.names !== null &&
      from.names === this.names &&
      from.nodeList[node.id] === node &&
      this.prefix === ''
        ? from.nameIndexOf[node.id]
        : -1;
    const keeps = index !== -1 && this.idOfNameIndex(index) === -1;
    const name = keeps ? node.name : this.uniqueName(node, false);
    if (name !== node.name) {
      const badName = nameProblem(name);
      if (badName !== null)
        throw new GraphError(`Graph: the name of ${node.op} ${quoteName(name.slice(0, 200))} ${badName}`);
    }
    const copy: Node = {
      id,
      op: node.op,
      // The caller's array, kept: copyNode's callers build a fresh one per node and never touch it again.
      inputs,
      attrs: node.attrs,
      dtype: node.dtype,
      shape: node.shape,
      name,
      value: node.value,
    };
    this.append(copy, key, content, attrsKey);
    this.claimName(keeps ? index : (this.names as NameSpace).add(name), id);
    return id;
  }

  /**
   * A copy of this top-level graph holding only the nodes flagged in `keep` (which must hold every input of a kept
   * node), in id order, with the same names, attrs and values; `mapped[id]` is a kept node's new id (-1 if dropped).
   * What a rebuild of a graph built by interning gives when it keeps every node as it is, without re-keying
   * anything: the name and intern tables are filled on first use. (The passes drop dead nodes with it.) A node in
   * `constants` becomes a constant of that value under its name (constant folding in place: its inputs are then
   * kept only if `keep` says so); a node in `redirect` is dropped, its readers reading the earlier node it maps to; a
   * node in `replaced` becomes a node of that op, attrs and inputs (earlier kept nodes) with its type and name, which
   * the caller checked equals no other node (addn's flattened sums).
   */
  compacted(
    keep: Uint8Array,
    constants?: ReadonlyMap<number, NDArray>,
    redirect?: ReadonlyMap<number, number>,
    replaced?: ReadonlyMap<number, { readonly op: string; readonly inputs: readonly number[]; readonly attrs: Attrs }>,
  ): { graph: Graph; mapped: Int32Array } {
    if (this.parent !== null) throw new GraphError('Graph.compacted: a region cannot be compacted on its own');
    const out = new Graph();
    // Every node kept keeps its name, and so its name's number in the shared space.
    out.inheritNames(this);
    const nameIndexOf = this.nameIndexOf;
    const outIndexOf = out.nameIndexOf;
    const idOfIndex = out.idOfIndex;
    const contentHashes = new Int32Array(Math.max(64, this.nodeList.length));
    const stateless = new Uint8Array(Math.max(64, this.nodeList.length));
    const mapped = new Int32Array(this.nodeList.length).fill(-1);
    for (const node of this.nodeList) {
      const to = redirect?.get(node.id);
      if (to !== undefined) {
        mapped[node.id] = mapped[to];
        continue;
      }
      if (keep[node.id] !== 1) continue;
      const id = out.nodeList.length;
      // The node here, whether it is interned, the hash of its content and its attrs' key.
      let copy: Node;
      let interned: boolean;
      let content = 0;
      let attrsKey: string;
      const value = constants?.get(node.id);
      const replacement = value === undefined ? replaced?.get(node.id) : undefined;
      if (value !== undefined) {
        // What `constant(value, node.dtype, node.name)` adds (the caller checked that it would be a new node).
        copy = {
          id,
          op: 'constant',
          inputs: [],
          attrs: {},
          dtype: value.dtype,
          shape: [...value.shape],
          name: node.name,
          value,
        };
        interned = value.size <= INTERN_CONSTANT_LIMIT;
        attrsKey = '{}';
        if (interned) content = contentHash('constant', value.dtype, value.shape, value, attrsKey);
      } else if (replacement !== undefined) {
        const inputs = replacement.inputs.map((input) => mapped[input]);
        if (inputs.some((input) => input < 0))
          throw new GraphError(`Graph.compacted: %${node.id}'s new inputs are not kept`);
        copy = {
          id,
          op: replacement.op,
          inputs,
          attrs: replacement.attrs,
          dtype: node.dtype,
          shape: node.shape,
          name: node.name,
          value: undefined,
        };
        interned = true;
        attrsKey = attrsKeyOf(replacement.attrs);
        content = contentHash(replacement.op, node.dtype, node.shape, undefined, attrsKey);
      } else {
        let moved = false;
        for (const input of node.inputs) {
          const to = mapped[input];
          if (to < 0) throw new GraphError(`Graph.compacted: node %${node.id} is kept but its input %${input} is not`);
          if (to !== input) moved = true;
        }
        // Nodes are never mutated: one that keeps its id and inputs is the same node here (no copy, no garbage).
        copy =
          !moved && id === node.id
            ? node
            : {
                id,
                op: node.op,
                inputs: moved ? node.inputs.map((input) => mapped[input]) : node.inputs,
                attrs: node.attrs,
                dtype: node.dtype,
                shape: node.shape,
                name: node.name,
                value: node.value,
              };
        interned = this.stateless[node.id] === 1;
        content = this.contentHashes[node.id];
        attrsKey = this.attrsKeyList[node.id];
      }
      out.nodeList.push(copy);
      out.attrsKeyList.push(attrsKey);
      stateless[id] = interned ? 1 : 0;
      contentHashes[id] = content;
      mapped[node.id] = id;
      outIndexOf[id] = nameIndexOf[node.id];
      idOfIndex[nameIndexOf[node.id]] = id;
    }
    out.contentHashes = contentHashes;
    out.stateless = stateless;
    return { graph: out, mapped };
  }

  /**
   * Makes this empty graph a copy's target: it shares `source`'s name space, so a node of `source` added by
   * `copyNode(node, inputs, stateful, source)` keeps its name by its number in the space, without looking the string
   * up, and a rebuild refills no table of every name. The space is shared until `settleNames`.
   */
  inheritNames(source: Graph): void {
    if (this.nodeList.length > 0) throw new GraphError('Graph.inheritNames: the graph already has nodes');
    const names = source.nameSpace();
    this.names = names;
    this.namesShared = true;
    this.idOfIndex = new Int32Array(Math.max(64, names.count)).fill(-1);
    this.nameIndexOf = new Int32Array(Math.max(64, source.size));
  }

  /**
   * Lets go of the name space shared with the graphs this one was copied from (`inheritNames`): its own is refilled
   * from its nodes on first use. The passes call it on the graph they hand on.
   */
  settleNames(): void {
    if (!this.namesShared) return;
    this.names = null;
    this.namesShared = false;
  }

  /** The name space, refilled from the nodes after `settleNames`. */
  private nameSpace(): NameSpace {
    if (this.names !== null) return this.names;
    const names = new NameSpace();
    this.names = names;
    this.idOfIndex = new Int32Array(Math.max(64, this.nodeList.length)).fill(-1);
    this.nameIndexOf = new Int32Array(Math.max(64, this.nodeList.length));
    for (const node of this.nodeList) this.claimName(names.add(node.name), node.id);
    return names;
  }

  /** Records that node id has the name numbered `index` in the name space. */
  private claimName(index: number, id: number): void {
    this.nameIndexOf = withRoom(this.nameIndexOf, id);
    this.nameIndexOf[id] = index;
    this.idOfIndex = withRoom(this.idOfIndex, index, -1);
    this.idOfIndex[index] = id;
  }

  /** The node here whose name is numbered `index` in the name space, or -1. */
  private idOfNameIndex(index: number): number {
    return index < this.idOfIndex.length ? this.idOfIndex[index] : -1;
  }

  /** The id of the node with this name, or -1. */
  private idOfName(name: string): number {
    const index = this.nameSpace().indexOf(name);
    return index === -1 ? -1 : this.idOfNameIndex(index);
  }

  /** Adds a node made by addNode or copyNode: interned under `key` unless undefined (a stateful node). */
  private append(node: Node, key: number | undefined, content: number, attrsKey: string): void {
    const id = node.id;
    this.nodeList.push(node);
    this.attrsKeyList.push(attrsKey);
    this.contentHashes = withRoom(this.contentHashes, id);
    this.stateless = withRoom(this.stateless, id);
    this.contentHashes[id] = content;
    this.stateless[id] = key === undefined ? 0 : 1;
    if (key !== undefined) this.intern(key, id);
    this.indexedUpTo = id + 1;
  }

  /** The interned node equal to the probe (same op, inputs, attrs, dtype, shape and value), or -1. */
  private findInterned(
    hash: number,
    op: string,
    dtype: DType,
    inputs: readonly number[],
    shape: Shape,
    value: NDArray | undefined,
    attrs: Attrs,
    attrsKey: string,
  ): number {
    const table = this.internTable;
    const mask = (table.length >> 1) - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const id = table[2 * slot];
      if (id === -1) return -1;
      if (table[2 * slot + 1] !== hash) continue;
      const node = this.nodeList[id];
      if (node.op !== op || node.dtype !== dtype) continue;
      if (!sameNumbers(node.inputs, inputs) || !shapesEqual(node.shape, shape)) continue;
      if (node.attrs !== attrs && this.attrsKeyList[id] !== attrsKey) continue;
      if (sameValue(node.value, value)) return id;
    }
  }

  private intern(hash: number, id: number): void {
    // At most half full (a slot is two entries), so a probe ends soon at an empty slot.
    if (4 * (this.internCount + 1) > this.internTable.length) {
      const old = this.internTable;
      this.internTable = new Int32Array(2 * old.length).fill(-1);
      for (let at = 0; at < old.length; at += 2) if (old[at] !== -1) this.place(old[at + 1], old[at]);
    }
    this.place(hash, id);
    this.internCount++;
  }

  private place(hash: number, id: number): void {
    const table = this.internTable;
    const mask = (table.length >> 1) - 1;
    let slot = hash & mask;
    while (table[2 * slot] !== -1) slot = (slot + 1) & mask;
    table[2 * slot] = id;
    table[2 * slot + 1] = hash;
  }

  /** Fills the intern table for the nodes a compacted graph was made with. */
  private index(): void {
    for (let id = this.indexedUpTo; id < this.nodeList.length; id++) {
      const node = this.nodeList[id];
      if (this.stateless[id] === 1) {
        const attrsKey = this.attrsKeyList[id];
        const key = inputsHash(this.contentHashes[id], node.inputs);
        const found = this.findInterned(
          key,
          node.op,
          node.dtype,
          node.inputs,
          node.shape,
          node.value,
          node.attrs,
          attrsKey,
        );
        if (found === -1) this.intern(key, id);
      }
    }
    this.indexedUpTo = this.nodeList.length;
  }

  private uniqueName(spec: NodeSpec, exact: boolean): string {
    // Without a scope the name is the spec's own string (whose hash the engine has cached), not a new concatenation.
    const base = this.prefix === '' ? (spec.name ?? spec.op) : `${this.prefix}${spec.name ?? spec.op}`;
    const taken = this.idOfName(base);
    if (taken === -1) return base;
    if (exact) {
      throw new GraphError(
        `Graph: a node named ${quoteName(base)} already exists (${this.node(taken).op}); ` +
          `${spec.op} names must be unique in a graph`,
      );
    }
    // The first `${base}_k` past this graph's counter not taken here. The numbers of the suffixed names are kept per
    // base in the space, so a walk past names taken (each copy starts its counters at 0) builds no strings.
    const names = this.names as NameSpace;
    const suffixed = names.suffixedOf(base);
    let counter = this.nameCounters.get(base) ?? 0;
    let name = '';
    for (;;) {
      counter++;
      let index: number;
      if (counter <= suffixed.length) {
        index = suffixed[counter - 1];
      } else {
        name = `${base}_${counter}`;
        index = names.indexOf(name);
        if (index !== -1 && counter === suffixed.length + 1) suffixed.push(index);
      }
      if (index === -1 || this.idOfNameIndex(index) === -1) break;
    }
    this.nameCounters.set(base, counter);
    return counter <= suffixed.length ? names.nameAt(suffixed[counter - 1]) : name;
  }

  /** The top-level graph of a region (itself for a top-level graph). */
  get root(): Graph {
    return this.parent === null ? this : this.parent.root;
  }

  /** Whether `this` is `other` or one of its enclosing graphs. */
  encloses(other: Graph): boolean {
    for (let g: Graph | null = other; g !== null; g = g.parent) if (g === this) return true;
    return false;
  }

  /**
   * Opens a region inside the graph being built (the innermost open region, or this graph): until `closeRegion`,
   * ops built from tensors of this graph or of the open regions go into the new region.
   */
  openRegion(): Graph {
    const root = this.root;
    const region = new Graph(root.buildTarget());
    root.openRegions.push(region);
    return region;
  }

  /** Closes the innermost open region (which must be `region`). */
  closeRegion(region: Graph): void {
    const open = this.root.openRegions;
    if (open[open.length - 1] !== region) throw new GraphError('Graph: regions must be closed innermost first');
    open.pop();
  }

  /** Whether this region is still being built (false for a top-level graph). */
  get isOpen(): boolean {
    return this.parent !== null && this.root.openRegions.includes(this);
  }

  /**
   * Where an op over tensors of this graph is built: the innermost open region, when this graph encloses it (the op
   * is then written inside a body), else this graph itself.
   */
  buildTarget(): Graph {
    const open = this.root.openRegions;
    const inner = open[open.length - 1];
    return inner !== undefined && this.encloses(inner) ? inner : this;
  }

  /**
   * The id in this graph of a tensor's value: its own id when it belongs here; when it belongs to an enclosing graph,
   * the placeholder that captures it (made on first use, through every region in between). A tensor of a region
   * that is not around this one (a body already closed, or another graph) is a GraphError.
   */
  lift(tensor: Tensor): number {
    if (tensor.graph === this) return tensor.id;
    if (this.parent === null || !tensor.graph.encloses(this)) {
      const inside = tensor.graph.parent !== null;
      throw new GraphError(
        inside
          ? `tensor ${quoteName(tensor.name)} was built inside a cond/whileLoop/scan body and cannot be used outside ` +
              'it; return it from the body instead'
          : `tensor ${quoteName(tensor.name)} belongs to a different graph; all inputs of an op must come from the ` +
              'same Graph',
      );
    }
    const outer = this.parent.lift(tensor);
    let local = this.captureOf.get(outer);
    if (local === undefined) {
      const node = this.parent.node(outer);
      local = this.addNode({
        op: 'placeholder',
        inputs: [],
        dtype: node.dtype,
        shape: node.shape,
        name: node.name,
        stateful: true,
        renameable: true,
      }).id;
      this.captureOf.set(outer, local);
      this.capturedList.push(outer);
    }
    return local;
  }

  /** A region's captures: the ids of the outer tensors it read (in the parent graph) and their placeholders here. */
  captures(): { outer: number; local: number }[] {
    return this.capturedList.map((outer) => ({ outer, local: this.captureOf.get(outer) as number }));
  }

  /** The text IR of the whole graph, one node per line. */
  toString(): string {
    return formatNodes(this.nodeList);
  }
}

/**
 * The names of a graph and of the graphs copied from it and to it in a pipeline (`Graph.inheritNames`), each numbered
 * once, never removed: a graph says which of them it holds by number. Names are unique in each graph.
 */
class NameSpace {
  private readonly numbers = new Map<string, number>();
  private readonly list: string[] = [];
  /** Per base name: the numbers of `${base}_1`, `${base}_2`, … as far as each of them is in the space. */
  private readonly suffixes = new Map<string, number[]>();

  get count(): number {
    return this.list.length;
  }

  /**
   * The last name `indexOf` did not find, while no name has been added since: a new node's name is looked up, then
   * added, and the second lookup is left out.
   */
  private missed: string | null = null;

  /** The number of a name, or -1 when no graph of the space has it. */
  indexOf(name: string): number {
    const index = this.numbers.get(name);
    if (index !== undefined) return index;
    this.missed = name;
    return -1;
  }

  /** The number of a name, numbering it if it is new. */
  add(name: string): number {
    let index = name === this.missed ? undefined : this.numbers.get(name);
    this.missed = null;
    if (index === undefined) {
      index = this.list.length;
      this.numbers.set(name, index);
      this.list.push(name);
    }
    return index;
  }

  nameAt(index: number): string {
    return this.list[index];
  }

  /** The numbers of `${base}_1`, `${base}_2`, … known so far (the caller extends the list as it finds more). */
  suffixedOf(base: string): number[] {
    let suffixed = this.suffixes.get(base);
    if (suffixed === undefined) {
      suffixed = [];
      this.suffixes.set(base, suffixed);
    }
    return suffixed;
  }
}

/** The canonical JSON of a node's attrs, computed once per attrs object (a node's attrs are never mutated). */
const attrsKeys = new WeakMap<Attrs, string>();
function attrsKeyOf(attrs: Attrs): string {
  // Most nodes have no attrs: no table lookup for them.
  return isEmpty(attrs) ? '{}' : attrsKeyOfSome(attrs);
}

function isEmpty(attrs: Attrs): boolean {
  for (const key in attrs) if (Object.prototype.hasOwnProperty.call(attrs, key)) return false;
  return true;
}

function attrsKeyOfSome(attrs: Attrs): string {
  let key = attrsKeys.get(attrs);
  if (key === undefined) {
    key = canonicalJSON(attrs);
    attrsKeys.set(attrs, key);
  }
  return key;
}

const hashBits = new Float64Array(1);
const hashWords = new Int32Array(hashBits.buffer);

function mix(hash: number, word: number): number {
  const h = Math.imul(hash ^ word, 0x9e3779b1);
  return (h << 13) | (h >>> 19);
}

function mixString(hash: number, text: string): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return mix(h, text.length);
}

/** The hash of the attrs' canonical JSON, once per string (attrs objects are shared by the copies of a node). */
const attrsHashes = new Map<string, number>();

/** The hash of an op name and dtype pair, once per pair. */
const opHashes = new Map<string, Map<string, number>>();
function opHash(op: string, dtype: string): number {
  let byDType = opHashes.get(op);
  if (byDType === undefined) {
    byDType = new Map();
    opHashes.set(op, byDType);
  }
  let h = byDType.get(dtype);
  if (h === undefined) {
    h = mixString(mixString(0x811c9dc5, op), dtype);
    byDType.set(dtype, h);
  }
  return h;
}

/**
 * The hash of what a copy of a node keeps: op, dtype, shape, attrs (their canonical JSON) and, for a constant, its
 * elements (-0 told from 0, every NaN alike). Computed once per node and carried by its copies.
 */
function contentHash(op: string, dtype: DType, shape: Shape, value: NDArray | undefined, attrsKey: string): number {
  let h = opHash(op, dtype);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    h = mix(h, d === null ? -1 : d);
  }
  h = mix(h, shape.length);
  let attrsHash = attrsHashes.get(attrsKey);
  if (attrsHash === undefined) {
    attrsHash = mixString(0, attrsKey);
    if (attrsKey.length <= 256) attrsHashes.set(attrsKey, attrsHash);
  }
  h = mix(h, attrsHash);
  if (value !== undefined) {
    for (const v of value.data) {
      hashBits[0] = Number.isNaN(v) ? NaN : v;
      h = mix(mix(h, hashWords[0]), hashWords[1]);
    }
  }
  return h;
}

/**
 * A structural hash of a node: its content's hash with its input ids. Equal nodes hash equal. Numbers, not a string
 * key per node: interning is most of what a rebuild costs.
 */
function inputsHash(content: number, inputs: readonly number[]): number {
  let h = content;
  for (let i = 0; i < inputs.length; i++) h = mix(h, inputs[i]);
  return mix(h, inputs.length);
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Constant values equal element by element as the old string keys had it: -0 is not 0, NaN is NaN. */
function sameValue(a: NDArray | undefined, b: NDArray | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.data.length !== b.data.length) return false;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i];
    const y = b.data[i];
    if (!Object.is(x, y) && !(Number.isNaN(x) && Number.isNaN(y))) return false;
  }
  return true;
}

/** NDArray.from for a constant's or variable's value, its errors prefixed with the node (`constant 'c'`). */
function converted(what: string, value: ArrayValue, dtype: DType | undefined): NDArray {
  try {
    return NDArray.from(value, dtype);
  } catch (error) {
    if (!(error instanceof LazygradError)) throw error;
    const ErrorClass = error.constructor as new (message: string) => LazygradError;
    throw new ErrorClass(`${what}: ${error.message.replace(/^NDArray\.from: /, '')}`);
  }
}

function checkDType(op: string, name: string, dtype: DType): void {
  if (!isDType(dtype)) {
    throw new DTypeError(
      `${op} ${quoteName(name)}: unknown dtype '${String(dtype)}'; valid: float32, float64, int32, bool`,
    );
  }
}

/** A name given to a builder: a non-empty string (the full name, with scopes, is checked when the node is added). */
function checkName(op: string, name: string): void {
  const problem = nameProblem(name);
  if (problem !== null) {
    const shown = typeof name === 'string' ? ` ${quoteName(name.slice(0, 200))}${name.length > 200 ? '…' : ''}` : '';
    throw new GraphError(`${op}: the name${shown} ${problem}`);
  }
}

/** A shape that broke the rule, shown short (a rank-1000 list would flood the message). */
function formatBadShape(shape: unknown): string {
  if (!Array.isArray(shape)) return String(shape);
  return shape.length <= 8 ? formatShape(shape as Shape) : `(rank ${shape.length})`;
}

function checkShape(op: string, name: string, shape: Shape): void {
  const problem = shapeProblem(shape);
  if (problem !== null) {
    throw new ShapeError(`${op} ${quoteName(name)}: invalid shape ${formatBadShape(shape)}: it ${problem}`);
  }
}

/**
 * A user-facing handle on a node. Chainable op methods (`x.add(y)`) are installed by the ops layer.
 */
export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly node: Node,
  ) {}

  get id(): number {
    return this.node.id;
  }
  get name(): string {
    return this.node.name;
  }
  get op(): string {
    return this.node.op;
  }
  get dtype(): DType {
    return this.node.dtype;
  }
  get shape(): Shape {
    return this.node.shape;
  }
  get rank(): number {
    return this.node.shape.length;
  }
  get isFloat(): boolean {
    return isFloat(this.node.dtype);
  }

  /** One line of text IR for this node. */
  toString(): string {
    return formatNode(this.node);
  }
}

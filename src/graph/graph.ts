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
   * (op, inputs, attrs, dtype, shape, value), -1 for an empty slot; `hashes[id]` is node id's hash. Lookups compare
   * the candidates field by field. Typed arrays, not a Map: no boxed keys, no garbage per node.
   */
  private internTable = new Int32Array(64).fill(-1);
  private internCount = 0;
  private hashes = new Int32Array(64);
  /**
   * Names to ids: the names this graph gave its nodes itself. A graph copied from another (a rebuild's target, a
   * compaction) keeps the names of the nodes copied under their own names in that graph's tables instead, through
   * `nameLevel` (see `idOfName`); after `settleNames` the table is refilled from the nodes on first use.
   */
  private names = new Map<string, number>();
  private nameLevel: NameLevel = { own: this.names, up: null, kept: null };
  private namesPending = false;
  /** Per node: 1 when it is interned (not stateful). */
  private readonly stateless: number[] = [];
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
    if (spec.stateful !== true) {
      const attrsKey = canonicalJSON(attrs);
      key = internHash(spec.op, spec.dtype, spec.inputs, spec.shape, spec.value, attrsKey);
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
    this.nodeList.push(node);
    this.stateless.push(key === undefined ? 0 : 1);
    this.names.set(name, id);
    if (key !== undefined) this.intern(key, id);
    this.indexedUpTo = id + 1;
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
    if (!stateful) {
      const attrsKey = attrsKeyOf(node.attrs);
      key = internHash(node.op, node.dtype, inputs, node.shape, node.value, attrsKey);
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
    // A node of the graph this one was copied from, under its own name: that name is taken here only by the node's
    // copy (names are unique there) or by a name this graph gave itself. Then no lookup in the whole table.
    const kept = this.nameLevel.kept;
    const keeps =
      kept !== null &&
      from !== undefined &&
      from.nameLevel === this.nameLevel.up &&
      from.nodeList[node.id] === node &&
      this.prefix === '' &&
      kept[node.id] === -1 &&
      !this.names.has(node.name);
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
    this.nodeList.push(copy);
    this.stateless.push(key === undefined ? 0 : 1);
    if (keeps) (kept as Int32Array)[node.id] = id;
    else this.names.set(name, id);
    if (key !== undefined) this.intern(key, id);
    this.indexedUpTo = id + 1;
    return id;
  }

  /**
   * A copy of this top-level graph holding only the nodes flagged in `keep` (which must hold every input of a kept
   * node), in id order, with the same names, attrs and values; `mapped[id]` is a kept node's new id (-1 if dropped).
   * What a rebuild of a graph built by interning gives when it keeps every node as it is, without re-keying
   * anything: the name and intern tables are filled on first use. (The passes drop dead nodes with it.) A node in
   * `constants` becomes a constant of that value under its name (constant folding in place: its inputs are then
   * kept only if `keep` says so); a node in `redirect` is dropped, its readers reading the earlier node it maps to.
   */
  compacted(
    keep: Uint8Array,
    constants?: ReadonlyMap<number, NDArray>,
    redirect?: ReadonlyMap<number, number>,
  ): { graph: Graph; mapped: Int32Array } {
    if (this.parent !== null) throw new GraphError('Graph.compacted: a region cannot be compacted on its own');
    const out = new Graph();
    // Every node kept keeps its name: the copy's names are this graph's, through `kept`.
    out.inheritNames(this);
    const kept = out.nameLevel.kept as Int32Array;
    const mapped = new Int32Array(this.nodeList.length).fill(-1);
    for (const node of this.nodeList) {
      const to = redirect?.get(node.id);
      if (to !== undefined) {
        mapped[node.id] = mapped[to];
        continue;
      }
      if (keep[node.id] !== 1) continue;
      const id = out.nodeList.length;
      const value = constants?.get(node.id);
      if (value !== undefined) {
        // What `constant(value, node.dtype, node.name)` adds (the caller checked that it would be a new node).
        out.nodeList.push({
          id,
          op: 'constant',
          inputs: [],
          attrs: {},
          dtype: value.dtype,
          shape: [...value.shape],
          name: node.name,
          value,
        });
        out.stateless.push(value.size > INTERN_CONSTANT_LIMIT ? 0 : 1);
        mapped[node.id] = id;
        kept[node.id] = id;
        continue;
      }
      const inputs = node.inputs.map((input) => {
        const to = mapped[input];
        if (to < 0) throw new GraphError(`Graph.compacted: node %${node.id} is kept but its input %${input} is not`);
        return to;
      });
      out.nodeList.push({
        id,
        op: node.op,
        inputs,
        attrs: node.attrs,
        dtype: node.dtype,
        shape: node.shape,
        name: node.name,
        value: node.value,
      });
      out.stateless.push(this.stateless[node.id]);
      mapped[node.id] = id;
      kept[node.id] = id;
    }
    return { graph: out, mapped };
  }

  /**
   * Makes this empty graph a copy's target: a node of `source` added by `copyNode(node, inputs, stateful, source)`
   * keeps its name without a lookup in a table of every name (the name is `source`'s, unique there), so a rebuild
   * does not refill the name table. The names stay `source`'s tables' (not its nodes) until `settleNames`.
   */
  inheritNames(source: Graph): void {
    if (this.nodeList.length > 0) throw new GraphError('Graph.inheritNames: the graph already has nodes');
    if (source.namesPending) source.fillNames();
    this.nameLevel = { own: this.names, up: source.nameLevel, kept: new Int32Array(source.size).fill(-1) };
  }

  /**
   * Lets go of the tables of the graphs this one was copied from (`inheritNames`): its own table is refilled from
   * its nodes on first use. The passes call it on the graph they hand on.
   */
  settleNames(): void {
    if (this.nameLevel.up === null) return;
    this.names = new Map();
    this.nameLevel = { own: this.names, up: null, kept: null };
    this.namesPending = true;
  }

  private fillNames(): void {
    for (const node of this.nodeList) this.names.set(node.name, node.id);
    this.namesPending = false;
  }

  /** The id of the node with this name, or -1. */
  private idOfName(name: string): number {
    if (this.namesPending) this.fillNames();
    return nameIdIn(this.nameLevel, name);
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
    const mask = table.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const id = table[slot];
      if (id === -1) return -1;
      if (this.hashes[id] !== hash) continue;
      const node = this.nodeList[id];
      if (node.op !== op || node.dtype !== dtype) continue;
      if (!sameNumbers(node.inputs, inputs) || !sameDims(node.shape, shape)) continue;
      if (node.attrs !== attrs && attrsKeyOf(node.attrs) !== attrsKey) continue;
      if (sameValue(node.value, value)) return id;
    }
  }

  private intern(hash: number, id: number): void {
    if (id >= this.hashes.length) {
      const grown = new Int32Array(Math.max(2 * this.hashes.length, id + 1));
      grown.set(this.hashes);
      this.hashes = grown;
    }
    this.hashes[id] = hash;
    // At most half full, so a probe ends soon at an empty slot.
    if (2 * (this.internCount + 1) > this.internTable.length) {
      const old = this.internTable;
      this.internTable = new Int32Array(2 * old.length).fill(-1);
      for (const held of old) if (held !== -1) this.place(this.hashes[held], held);
    }
    this.place(hash, id);
    this.internCount++;
  }

  private place(hash: number, id: number): void {
    const table = this.internTable;
    const mask = table.length - 1;
    let slot = hash & mask;
    while (table[slot] !== -1) slot = (slot + 1) & mask;
    table[slot] = id;
  }

  /** Fills the intern table for the nodes a compacted graph was made with. */
  private index(): void {
    for (let id = this.indexedUpTo; id < this.nodeList.length; id++) {
      const node = this.nodeList[id];
      if (this.stateless[id] === 1) {
        const attrsKey = attrsKeyOf(node.attrs);
        const key = internHash(node.op, node.dtype, node.inputs, node.shape, node.value, attrsKey);
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
    let counter = this.nameCounters.get(base) ?? 0;
    let name: string;
    do {
      counter++;
      name = `${base}_${counter}`;
    } while (this.idOfName(name) !== -1);
    this.nameCounters.set(base, counter);
    return name;
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
 * The names of a graph: `own` (names to ids) holds those the graph gave its nodes itself; a graph copied from another
 * (`up`, that graph's names) also has the names of the nodes copied under their own names, `kept[id]` being the id
 * here of that graph's node id (-1: not copied under its name). Names are unique in each graph, so a name is in
 * `own` or kept from `up`, never both.
 */
interface NameLevel {
  readonly own: Map<string, number>;
  readonly up: NameLevel | null;
  readonly kept: Int32Array | null;
}

/**
 * The id of the node named `name` in the graph of `level`, or -1. Recursion over the copies a pipeline made (one level
 * per rebuild or compaction, a few dozen at most), never over nodes.
 */
function nameIdIn(level: NameLevel, name: string): number {
  const own = level.own.get(name);
  if (own !== undefined) return own;
  if (level.up === null || level.kept === null) return -1;
  const above = nameIdIn(level.up, name);
  return above >= 0 && above < level.kept.length ? level.kept[above] : -1;
}

/** The canonical JSON of a node's attrs, computed once per attrs object (a node's attrs are never mutated). */
const attrsKeys = new WeakMap<Attrs, string>();
function attrsKeyOf(attrs: Attrs): string {
  // Most nodes have no attrs: no table lookup for them.
  for (const key in attrs) if (Object.prototype.hasOwnProperty.call(attrs, key)) return attrsKeyOfSome(attrs);
  return '{}';
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

/**
 * A structural hash of a node: equal nodes (op, inputs, attrs, dtype, shape and, for a constant, its elements, -0
 * told from 0 and every NaN alike) hash equal. Numbers, not a string key per node: interning is most of what a
 * rebuild costs.
 */
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

function internHash(
  op: string,
  dtype: DType,
  inputs: readonly number[],
  shape: Shape,
  value: NDArray | undefined,
  attrsKey: string,
): number {
  let h = opHash(op, dtype);
  for (let i = 0; i < inputs.length; i++) h = mix(h, inputs[i]);
  h = mix(h, inputs.length);
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

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameDims(a: Shape, b: Shape): boolean {
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

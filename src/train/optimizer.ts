/**
 * The optimizer base (TensorFlow 1.x's tf.train.Optimizer): an update is built as graph nodes, once, and applied
 * each time its tensor is fetched. Optimizer state (slots such as Adam's moments, and the step count) lives in
 * session variables the optimizer creates next to the trained ones, so a checkpoint of all variables holds it.
 */
import { DType, DTypeError, formatShape, Graph, GraphError, isFloat, ShapeError, Tensor } from '../graph';
import { gradients } from '../autodiff';
import { add, assign, cast, group } from '../ops';
import { constant } from './initializers';

/** A learning rate: a number, or a float scalar tensor (a placeholder or a schedule computed in the graph). */
export type LearningRate = number | Tensor;

/** A gradient and its variable, as TF1's compute_gradients gives them; a null gradient leaves the variable alone. */
export type GradientAndVariable = readonly [Tensor | null, Tensor];

/** What an update rule is given for one variable. */
export interface UpdateContext {
  readonly variable: Tensor;
  readonly gradient: Tensor;
  /** The slots' current values, by slot name. */
  readonly slots: { readonly [slot: string]: Tensor };
  /** The learning rate, as a number or a scalar tensor of the variable's dtype. */
  readonly learningRate: number | Tensor;
  /** The step count including this update (1 on the first), in the variable's dtype; null without a step. */
  readonly step: Tensor | null;
}

/** What an update rule returns: the variable's new value and each slot's new value. */
export interface Update {
  readonly value: Tensor;
  readonly slots: { readonly [slot: string]: Tensor };
}

/** A slot: per-variable state of the variable's shape and dtype, starting at `initial`. */
export interface SlotSpec {
  readonly name: string;
  readonly initial: number;
}

/** What an optimizer keeps per graph: the name its variables use, its step counter and its slots. */
interface GraphState {
  readonly name: string;
  readonly step: Tensor | null;
  readonly slots: Map<number, { [slot: string]: Tensor }>;
}

export function requireHyperparameter(
  optimizer: string,
  what: string,
  value: unknown,
  check: (v: number) => boolean,
  valid: string,
): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !check(value)) {
    throw new GraphError(`${optimizer}: ${what} must be ${valid}, got ${String(value)}`);
  }
  return value;
}

function requireLearningRate(optimizer: string, learningRate: unknown): LearningRate {
  if (learningRate instanceof Tensor) {
    if (!learningRate.isFloat || learningRate.rank !== 0) {
      const described = `${learningRate.dtype}${formatShape(learningRate.shape)}`;
      throw new DTypeError(
        `${optimizer}: learningRate '${learningRate.name}' is ${described}; a learning rate tensor must be a ` +
          'float32 or float64 scalar',
      );
    }
    return learningRate;
  }
  return requireHyperparameter(optimizer, 'learningRate', learningRate, (v) => v >= 0, 'a finite number >= 0');
}

/**
 * An optimizer: `minimize(loss)` returns a tensor that applies one update each time it is fetched. Subclasses give
 * their slots and their update rule; the base class creates the state variables and the assigns.
 *
 * @example
 * const trainOp = train.adam(0.01).minimize(loss);
 * for (let i = 0; i < 100; i++) sess.run([loss, trainOp], feeds); // the loss before each update
 */
export abstract class Optimizer {
  /** The tfjs name ('adam'): the prefix of the optimizer's variables, e.g. 'w/adam_m' and 'adam/step'. */
  abstract readonly className: string;
  readonly learningRate: LearningRate;
  /** The per-variable state the update rule reads and writes. */
  protected abstract readonly slotSpecs: readonly SlotSpec[];
  /** Whether the rule needs the step count (Adam's bias correction). */
  protected readonly usesStep: boolean = false;
  private readonly states = new WeakMap<Graph, GraphState>();

  constructor(optimizer: string, learningRate: LearningRate) {
    this.learningRate = requireLearningRate(optimizer, learningRate);
  }

  /** The new value of a variable and its slots after one step with `gradient`, as graph nodes. */
  protected abstract update(context: UpdateContext): Update;

  /**
   * The gradient of `loss` for each variable (default: the graph's trainable float variables). A variable the loss
   * does not depend on gets a null gradient.
   *
   * @example const gradsAndVars = opt.computeGradients(loss, [w, b]);
   */
  computeGradients(loss: Tensor, varList?: readonly Tensor[]): [Tensor | null, Tensor][] {
    if (!(loss instanceof Tensor)) throw new GraphError(`${this.className}: the loss must be a Tensor`);
    const variables = varList ?? loss.graph.trainableVariables().filter((v) => isFloat(v.dtype));
    if (variables.length === 0) {
      throw new GraphError(
        `${this.className}: no variables to optimize: the graph has no trainable float variables and no varList ` +
          'was given',
      );
    }
    for (const v of variables) this.checkVariable(v, loss.graph);
    const grads = gradients(loss, variables);
    return variables.map((v, i) => [grads[i], v]);
  }

  /**
   * A tensor that, when fetched, applies one update with the given gradients (null gradients are skipped). Every
   * variable, slot and the step count are written with `assign` after the run computed everything from the
   * previous values.
   *
   * @example sess.run(opt.applyGradients(gradsAndVars.map(([g, v]) => [clip(g), v])))
   */
  applyGradients(gradsAndVars: readonly GradientAndVariable[]): Tensor {
    const pairs = gradsAndVars.filter((pair): pair is readonly [Tensor, Tensor] => pair[0] !== null);
    if (pairs.length === 0) {
      const names = gradsAndVars.map(([, v]) => `'${v.name}'`).join(', ');
      throw new GraphError(
        `${this.className}: no gradients for any variable (${names || 'none given'}); check that the loss ` +
          'depends on the variables being trained',
      );
    }
    const graph = pairs[0][1].graph;
    const seen = new Set<number>();
    for (const [gradient, variable] of pairs) {
      this.checkVariable(variable, graph);
      this.checkGradient(gradient, variable);
      if (seen.has(variable.id)) {
        throw new GraphError(
          `${this.className}: variable '${variable.name}' appears twice; give one gradient per variable ` +
            '(sum them first)',
        );
      }
      seen.add(variable.id);
    }
    const state = this.stateFor(
      graph,
      pairs.map(([, v]) => v),
    );
    const slotsOf = pairs.map(([, variable]) => this.slotsFor(state, variable));
    return graph.nameScope(state.name, () => {
      const assigns: Tensor[] = [];
      let step: Tensor | null = null;
      if (state.step !== null) {
        step = add(state.step, 1);
        assigns.push(assign(state.step, step));
      }
      const stepAs = new Map<DType, Tensor>();
      const learningRateAs = new Map<DType, Tensor>();
      pairs.forEach(([gradient, variable], i) => {
        const dtype = variable.dtype;
        if (step !== null && !stepAs.has(dtype)) stepAs.set(dtype, cast(step, dtype));
        let learningRate: number | Tensor = this.learningRate;
        if (learningRate instanceof Tensor && learningRate.dtype !== dtype) {
          if (!learningRateAs.has(dtype)) learningRateAs.set(dtype, cast(learningRate, dtype));
          learningRate = learningRateAs.get(dtype) as Tensor;
        }
        const slots = slotsOf[i];
        const result = this.update({ variable, gradient, slots, learningRate, step: stepAs.get(dtype) ?? null });
        assigns.push(assign(variable, result.value));
        for (const spec of this.slotSpecs) assigns.push(assign(slots[spec.name], result.slots[spec.name]));
      });
      return group(assigns, 'update');
    });
  }

  /**
   * computeGradients then applyGradients: a tensor that applies one update of the variables (default: the
   * trainable float variables) when fetched.
   *
   * @example const trainOp = train.sgd(0.1).minimize(loss);
   */
  minimize(loss: Tensor, varList?: readonly Tensor[]): Tensor {
    const gradsAndVars = this.computeGradients(loss, varList);
    if (gradsAndVars.every(([g]) => g === null)) {
      throw new GraphError(
        `${this.className}: the loss '${loss.name}' depends on none of the variables ` +
          `${gradsAndVars.map(([, v]) => `'${v.name}'`).join(', ')}; nothing to train`,
      );
    }
    return this.applyGradients(gradsAndVars);
  }

  /** The names of this optimizer's slots (TF1's get_slot_names). */
  getSlotNames(): string[] {
    return this.slotSpecs.map((s) => s.name);
  }

  /**
   * A slot variable of `variable` (e.g. Adam's 'm'), or null if no update of it was built yet (TF1's get_slot).
   * @example opt.getSlot(w, 'm') // the variable 'w/adam_m'
   */
  getSlot(variable: Tensor, slot: string): Tensor | null {
    return this.states.get(variable.graph)?.slots.get(variable.id)?.[slot] ?? null;
  }

  /**
   * The variables this optimizer created in `graph`: its step count (if any), then every slot.
   * @example optimizer.variables(g) // [adam/step, w/adam_m, w/adam_v, ...]
   */
  variables(graph: Graph): Tensor[] {
    const state = this.states.get(graph);
    if (state === undefined) return [];
    const out: Tensor[] = state.step === null ? [] : [state.step];
    for (const slots of state.slots.values()) for (const spec of this.slotSpecs) out.push(slots[spec.name]);
    return out;
  }

  private checkVariable(variable: Tensor, graph: Graph): void {
    if (!(variable instanceof Tensor) || variable.op !== 'variable') {
      const what = variable instanceof Tensor ? `'${variable.name}' is a ${variable.op} node` : 'not a Tensor';
      throw new GraphError(`${this.className}: only variables can be trained; ${what}`);
    }
    if (variable.graph !== graph) {
      throw new GraphError(`${this.className}: variable '${variable.name}' belongs to a different graph than the loss`);
    }
    if (!variable.isFloat) {
      throw new DTypeError(
        `${this.className}: variable '${variable.name}' is ${variable.dtype}; only float32 or float64 variables ` +
          'can be trained (leave it out of varList, or create it with { trainable: false })',
      );
    }
    if (this.learningRate instanceof Tensor && this.learningRate.graph !== graph) {
      throw new GraphError(
        `${this.className}: the learningRate tensor '${this.learningRate.name}' belongs to a different graph than ` +
          `variable '${variable.name}'`,
      );
    }
  }

  private checkGradient(gradient: Tensor, variable: Tensor): void {
    if (!(gradient instanceof Tensor) || gradient.graph !== variable.graph) {
      throw new GraphError(`${this.className}: the gradient of '${variable.name}' must be a Tensor of its graph`);
    }
    if (gradient.dtype !== variable.dtype) {
      throw new DTypeError(
        `${this.className}: the gradient '${gradient.name}' is ${gradient.dtype}, but variable '${variable.name}' ` +
          `is ${variable.dtype}; cast the gradient with cast(g, '${variable.dtype}')`,
      );
    }
    const fits =
      gradient.rank === variable.rank && gradient.shape.every((d, i) => d === null || d === variable.shape[i]);
    if (!fits) {
      throw new ShapeError(
        `${this.className}: the gradient '${gradient.name}' has shape ${formatShape(gradient.shape)}, but variable ` +
          `'${variable.name}' has shape ${formatShape(variable.shape)}; they must be equal`,
      );
    }
  }

  /**
   * The optimizer's state in a graph, created on first use. Its name is the class name, or the first of
   * `adam_1`, `adam_2`, ... whose variables do not exist yet (a second optimizer of one kind on one graph).
   */
  private stateFor(graph: Graph, variables: readonly Tensor[]): GraphState {
    let state = this.states.get(graph);
    if (state !== undefined) return state;
    const taken = (name: string): boolean =>
      (this.usesStep && graph.byName(`${graph.scopePrefix}${name}/step`) !== undefined) ||
      variables.some((v) =>
        this.slotSpecs.some((s) => graph.byName(`${graph.scopePrefix}${slotName(v, name, s)}`) !== undefined),
      );
    let name = this.className;
    for (let k = 1; taken(name); k++) name = `${this.className}_${k}`;
    const step = this.usesStep ? graph.variable(`${name}/step`, 0, { dtype: 'int32', trainable: false }) : null;
    state = { name, step, slots: new Map() };
    this.states.set(graph, state);
    return state;
  }

  private slotsFor(state: GraphState, variable: Tensor): { [slot: string]: Tensor } {
    let slots = state.slots.get(variable.id);
    if (slots === undefined) {
      slots = {};
      for (const spec of this.slotSpecs) {
        slots[spec.name] = variable.graph.variable(
          slotName(variable, state.name, spec),
          constant({ value: spec.initial }),
          {
            shape: variable.shape as number[],
            dtype: variable.dtype,
            trainable: false,
          },
        );
      }
      state.slots.set(variable.id, slots);
    }
    return slots;
  }
}

function slotName(variable: Tensor, optimizer: string, slot: SlotSpec): string {
  return `${variable.name}/${optimizer}_${slot.name}`;
}

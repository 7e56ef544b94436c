/**
 * The text IR of control flow: regions printed as nested, indented text under the first sibling of each construct
 * (later siblings refer to it), formatGraph of a slice, one-line summaries, and explain() showing each region's
 * compiled plan under its control step.
 */
import { add, formatGraph, Graph, mul, scan, Session, Tensor, toDot } from '../../src';
import { controlGraph } from './graphs';

describe('text IR of regions', () => {
  test('Graph.toString prints each region once, indented, nested regions deeper (golden)', () => {
    const { g } = controlGraph();
    expect(g.toString()).toBe(
      [
        '%0 = placeholder() : float64[2]  # x',
        '%1 = placeholder() : float64[2, 2]  # W',
        '%2 = placeholder() : float64[2, 2]  # U',
        '%3 = placeholder() : float64[4, 1, 2]  # xs',
        '%4 = sum(%0) {axes=[0], keepDims=false} : float64[]  # sum',
        '%5 = constant() <0> : float64[]  # Const',
        '%6 = greater(%4, %5) : bool[]  # greater',
        '%7 = cond(%6, %0) {output=0} : float64[2]  # cond/0',
        '  then(%0 x: float64[2]) -> (%2)',
        '    %1 = constant() <2> : float64[]  # Const',
        '    %2 = mul(%0, %1) : float64[2]  # mul',
        '  else(%0 x: float64[2]) -> (%1)',
        '    %1 = neg(%0) : float64[2]  # neg',
        '%8 = reshape(%0) {shape=[1,2]} : float64[1, 2]  # reshape',
        '%9 = scan(%8, %3, %1, %2) {carries=1, xs=1, output="carry:0"} : float64[1, 2]  # scan/carry:0',
        '  body(%0 carry0: float64[1, 2], %1 x0: float64[1, 2], %2 W: float64[2, 2], %5 U: float64[2, 2]) -> (%9, %9)',
        '    %3 = matMul(%1, %2) {transposeA=false, transposeB=false} : float64[1, 2]  # matMul',
        '    %4 = transpose(%2) {perm=[1,0]} : float64[2, 2]  # transpose',
        '    %6 = matMul(%5, %4) {transposeA=false, transposeB=false} : float64[2, 2]  # matMul_1',
        '    %7 = matMul(%0, %6) {transposeA=false, transposeB=false} : float64[1, 2]  # matMul_2',
        '    %8 = add(%3, %7) : float64[1, 2]  # add',
        '    %9 = tanh(%8) : float64[1, 2]  # tanh',
        '%10 = scan(%8, %3, %1, %2) {body=as %9, carries=1, xs=1, output="ys:0"} : float64[4, 1, 2]  # scan/ys:0',
        '%11 = constant() <0> : int32[]  # Const_1',
        '%12 = while(%11, %0, %0) {maximumIterations=8, output="var:0"} : int32[]  # while/var:0',
        '  cond(%0 var0: int32[], %1 var1: float64[2], %4 x: float64[2]) -> (%3)',
        '    %2 = constant() <3> : int32[]  # Const',
        '    %3 = less(%0, %2) : bool[]  # less',
        '  body(%0 var0: int32[], %1 var1: float64[2], %7 x: float64[2]) -> (%3, %8)',
        '    %2 = constant() <1> : int32[]  # Const',
        '    %3 = add(%0, %2) : int32[]  # add',
        '    %4 = sum(%1) {axes=[0], keepDims=false} : float64[]  # sum',
        '    %5 = constant() <0> : float64[]  # Const_1',
        '    %6 = greater(%4, %5) : bool[]  # greater',
        '    %8 = cond(%6, %1, %7) {output=0} : float64[2]  # cond/0',
        '      then(%0 var1: float64[2], %3 x: float64[2]) -> (%2)',
        '        %1 = constant() <0.5> : float64[]  # Const',
        '        %2 = mul(%0, %1) : float64[2]  # mul',
        '      else(%0 var1: float64[2], %1 x: float64[2]) -> (%2)',
        '        %2 = add(%0, %1) : float64[2]  # add',
        '%13 = while(%11, %0, %0) {cond=as %12, body=as %12, maximumIterations=8, output="var:1"} : float64[2]  # while/var:1',
      ].join('\n'),
    );
  });

  test('a construct with five outputs prints its body once', () => {
    const g = new Graph();
    const xs = g.placeholder('xs', [3, 2], 'float64');
    const [carry, ys] = scan(
      (c: Tensor[], x: Tensor) => [
        [add(c[0], x), mul(c[1], x)],
        [x, add(x, 1), mul(x, 3)],
      ],
      [g.constant([0, 0], 'float64'), g.constant([1, 1], 'float64')],
      xs,
    );
    const text = g.toString();
    expect(text.match(/^ {2}body\(/gm)).toHaveLength(1);
    const first = (carry as Tensor[])[0].id;
    for (const t of [(carry as Tensor[])[1], ...(ys as Tensor[])]) {
      expect(text).toContain(`%${t.id} = scan(`);
      expect(text).toMatch(new RegExp(`%${t.id} = scan\\([^)]*\\) \\{body=as %${first},`));
    }
  });

  test('formatGraph prints the regions of the constructs in the slice', () => {
    const { ys } = controlGraph();
    const text = formatGraph([ys]);
    expect(text).toContain(
      '  body(%0 carry0: float64[1, 2], %1 x0: float64[1, 2], %2 W: float64[2, 2], %5 U: float64[2, 2]) -> (%9, %9)',
    );
    expect(text).not.toContain('then(');
    expect(text.endsWith(`-> %${ys.id}`)).toBe(true);
  });

  test('one line per node (Tensor.toString) summarizes a region by its size', () => {
    const { last, count } = controlGraph();
    expect(String(last)).toBe(
      '%9 = scan(%8, %3, %1, %2) {body=(4 params → 2, 10 nodes), carries=1, xs=1, output="carry:0"} : float64[1, 2]  # scan/carry:0',
    );
    expect(String(count)).toContain('{cond=(3 params → 1, 5 nodes), body=(3 params → 2, 9 nodes), maximumIterations=8');
  });

  test('explain shows each region compiled plan, indented under its control step, with the passes that changed it', () => {
    const { g, last, count, acc } = controlGraph();
    const text = new Session(g).explain([last, count, acc]).replace(/\d+\.\d\d ms/g, '#ms');
    const lines = text.split('\n');
    const at = (prefix: string): number => lines.findIndex((l) => l.startsWith(prefix));
    const scanLine = at('  %6 = scan(');
    expect(scanLine).toBeGreaterThan(0);
    expect(lines.slice(scanLine + 1, scanLine + 5)).toEqual([
      '    body plan:',
      '      passes:',
      '        epilogue nodes 8 → 6 (−2)  matmul-bias 1, matmul-activation 1  #ms',
      '      plan: 2 steps over 6 slots',
    ]);
    expect(text).toContain(
      '        %5 = fusedMatMul(%1, %2, %4) {transposeA=false, transposeB=false, activation="tanh"} : float64[1, 2]  # tanh',
    );
    // The while loop: its condition and body plans, and the cond nested in the body with its branches' plans.
    expect(lines[at('  %8 = while(') + 1]).toBe('    cond plan:');
    expect(text).toContain('    body plan:\n      passes: none changed the region\n      plan: 4 steps over 9 slots');
    expect(text).toContain('          then plan:\n');
    expect(text).toContain('          else plan:\n');
    expect(text).toContain('              %2 = add(%0, %1) : float64[2]  # add');
    expect(lines[lines.length - 2]).toBe('outputs: %6, %8, %9');
  });
});

describe('names inside regions are data', () => {
  const FORGED = 'x\n%9 = forged() : float32[]  # y';

  test('a captured tensor with a forged name cannot forge a line of the text IR or of DOT', () => {
    const g = new Graph();
    const x = g.placeholder(FORGED, [2], 'float64');
    const xs = g.placeholder('xs', [3, 2], 'float64');
    const [last] = scan((h: Tensor, row: Tensor) => [add(mul(h, x), row), null], x, xs);
    const text = g.toString();
    for (const line of text.split('\n')) expect(line).not.toMatch(/^\s*%9 = forged/);
    expect(text).toContain(
      '  body(%0 carry0: float64[2], %1 x0: float64[2], %2 "x\\n%9 = forged() : float32[]  # y": float64[2])',
    );
    const dot = toDot(g);
    expect(dot).not.toContain('\n%9 = forged');
    expect(String(last)).not.toContain('\n');
  });
});

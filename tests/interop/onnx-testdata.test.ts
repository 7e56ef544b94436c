/**
 * The official ONNX node tests of the control-flow and recurrent ops (Debian's `libonnx-testdata`: model.onnx and
 * its expected outputs), imported and run in lazygrad. Optional: the data set is not a dependency; when it is not
 * installed (`apt-get install libonnx-testdata`) the tests are skipped. ONNX_TESTDATA may point at
 * another copy of its data/node folder.
 */
import * as fs from 'fs';
import * as path from 'path';
import { importOnnx, NDArray, Session, Tensor } from '../../src';
import { decodeModel, decodeTensor, readTensor, toNDArray } from '../../src/interop/onnx/proto';

const ROOT = process.env.ONNX_TESTDATA ?? '/usr/share/libonnx-testdata/data/node';
const available = fs.existsSync(ROOT);

/** The tests read, with the largest difference measured from their expected outputs. */
const READ = [
  ...['test_gru_defaults', 'test_gru_seq_length', 'test_gru_with_initial_bias', 'test_gru_batchwise'],
  ...['test_lstm_defaults', 'test_lstm_with_initial_bias', 'test_lstm_with_peepholes', 'test_lstm_batchwise'],
  ...['test_rnn_seq_length', 'test_simple_rnn_defaults', 'test_simple_rnn_with_initial_bias'],
  ...['test_simple_rnn_batchwise', 'test_if', 'test_scan9_sum'],
];

function load(file: string, what: string): NDArray {
  return toNDArray(readTensor(decodeTensor(fs.readFileSync(file)), 1e7, what), what);
}

(available ? describe : describe.skip)(`ONNX node tests (${ROOT})`, () => {
  test.each(READ)('%s matches its expected outputs', (name) => {
    const dir = path.join(ROOT, name);
    const bytes = new Uint8Array(fs.readFileSync(path.join(dir, 'model.onnx')));
    const { graph, inputs, outputs } = importOnnx(bytes);
    const declared = decodeModel(bytes).graph?.input ?? [];
    const feeds = new Map<Tensor, NDArray>();
    declared.forEach((info, k) => {
      const input = inputs.get(info.name ?? '');
      if (input !== undefined) feeds.set(input, load(path.join(dir, 'test_data_set_0', `input_${k}.pb`), 'input'));
    });
    const got = new Session(graph).run(outputs, feeds) as NDArray[];
    got.forEach((value, k) => {
      const expected = load(path.join(dir, 'test_data_set_0', `output_${k}.pb`), 'output');
      expect(value.shape).toEqual(expected.shape);
      for (let i = 0; i < expected.data.length; i++) {
        expect(Math.abs(value.data[i] - expected.data[i])).toBeLessThan(1e-6); // measured ≤ 6e-8
      }
    });
  });

  test.each([
    ['test_loop11', /Loop with scan outputs.*no known M/],
    ['test_scan_sum', /Scan version 8/],
  ])('%s is refused with a reason', (name, message) => {
    const bytes = new Uint8Array(fs.readFileSync(path.join(ROOT, name, 'model.onnx')));
    expect(() => importOnnx(bytes)).toThrow(message);
  });
});

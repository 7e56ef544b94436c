// The elementwise ops both the single-op kernels (elementwise.ts) and the fused interpreter (fused.ts) apply, four
// lanes at a time. Each is a small class whose `@inline apply` the generic loops are specialized on
// (`changetype<F>(0)` is a typed null: apply uses no state), so every op gets its own loop with the arithmetic
// inlined and no call or branch per vector.
import { VMath } from './vmath';

export class Add {
  @inline apply(x: v128, y: v128): v128 {
    return f32x4.add(x, y);
  }
}
export class Sub {
  @inline apply(x: v128, y: v128): v128 {
    return f32x4.sub(x, y);
  }
}
export class Mul {
  @inline apply(x: v128, y: v128): v128 {
    return f32x4.mul(x, y);
  }
}
export class Div {
  @inline apply(x: v128, y: v128): v128 {
    return f32x4.div(x, y);
  }
}
export class Relu {
  @inline apply(x: v128): v128 {
    return VMath.relu(x);
  }
}
export class Sigmoid {
  @inline apply(x: v128): v128 {
    return VMath.sigmoid(x);
  }
}
export class Tanh {
  @inline apply(x: v128): v128 {
    return VMath.tanh(x);
  }
}
export class TanhFast {
  @inline apply(x: v128): v128 {
    return VMath.tanhFast(x);
  }
}
export class Exp {
  @inline apply(x: v128): v128 {
    return VMath.exp(x);
  }
}
export class Neg {
  @inline apply(x: v128): v128 {
    return f32x4.neg(x);
  }
}
export class Abs {
  @inline apply(x: v128): v128 {
    return f32x4.abs(x);
  }
}
export class Sqrt {
  @inline apply(x: v128): v128 {
    return f32x4.sqrt(x);
  }
}
export class Log {
  @inline apply(x: v128): v128 {
    return VMath.log(x);
  }
}
export class Square {
  @inline apply(x: v128): v128 {
    return f32x4.mul(x, x);
  }
}

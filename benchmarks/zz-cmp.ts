import { loadWasmKernels } from '../src/backend/wasm';
const w = loadWasmKernels({ initialBytes: 256 << 20 });
const a = w.arena;
const B=8,H=56,W=56,C=64,O=64;
const P=B*H*W, K=9*C;
const x=a.alloc(P*C*4), f=a.alloc(K*O*4), y=a.alloc(P*O*4), dx=a.alloc(P*C*4);
a.f32(x,P*C).fill(0.5); a.f32(f,K*O).fill(0.1);
const g={n:B,inH:H,inW:W,inC:C,outH:H,outW:W,outC:O,fh:3,fw:3,sh:1,sw:1,dh:1,dw:1,top:1,left:1};
const geoAt = (w as any).convGeometryAt;
const heap = new Int32Array(a.memory.buffer);
function t(fn: ()=>void){ fn(); const ts=[]; for(let i=0;i<5;i++){const s=performance.now(); fn(); ts.push(performance.now()-s);} ts.sort((p,q)=>p-q); return ts[2]; }
const r: number[][] = [[],[],[],[]];
for (let i=0;i<6;i++){
  heap[(geoAt>>2)+21]=1; r[0].push(t(()=>w.conv2d(x,f,y,g))); r[2].push(t(()=>w.conv2dBackpropInput(y,f,dx,g)));
  heap[(geoAt>>2)+21]=0; r[1].push(t(()=>w.conv2d(x,f,y,g))); r[3].push(t(()=>w.conv2dBackpropInput(y,f,dx,g)));
}
const med=(v:number[])=>v.sort((p,q)=>p-q)[v.length>>1].toFixed(1);
console.log('scalar pack', med(r[0]), 'simd pack', med(r[1]), 'bpi scalar', med(r[2]), 'bpi simd', med(r[3]));

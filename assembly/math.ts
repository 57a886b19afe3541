export function mathSweep(fn: i32, src: usize, dst: usize, n: i32): void {}

// The benchmarks' seeded generator is the tests' own: mulberry32 (test/helpers.ts's prng), and
// uniform float32 arrays from it (test/helpers-random.ts). No Math.random anywhere in bench/:
// every run times the same numbers.

export { prng as mulberry32 } from '../../test/helpers';
export { uniform32 as uniformArray } from '../../test/helpers-random';

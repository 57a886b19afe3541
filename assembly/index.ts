export { mathSweep } from "./math";

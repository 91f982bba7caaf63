/** Minimal typings for the Emscripten module `@echogarden/fvad-wasm` ships without types. */
declare module '@echogarden/fvad-wasm' {
  export interface FvadModule {
    readonly HEAP16: Int16Array;
    _fvad_new(): number;
    _fvad_free(inst: number): void;
    _fvad_reset(inst: number): void;
    /** 0 … 3; returns 0 on success, -1 on an invalid mode. */
    _fvad_set_mode(inst: number, mode: number): number;
    /** 8000, 16000, 32000 or 48000; returns 0 on success, -1 otherwise. */
    _fvad_set_sample_rate(inst: number, rate: number): number;
    /** Returns 1 (speech), 0 (no speech) or -1 (invalid frame length). */
    _fvad_process(inst: number, frame: number, length: number): number;
    _malloc(bytes: number): number;
    _free(ptr: number): void;
  }
  const createFvadModule: (moduleArg?: object) => Promise<FvadModule>;
  export default createFvadModule;
}

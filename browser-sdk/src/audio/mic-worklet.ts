/**
 * The microphone AudioWorklet, as source text: the SDK loads it from a Blob URL so it stays
 * one file. It downsamples the context's rate (44.1/48 kHz) to `targetRate` by averaging each
 * input window (a box low-pass, enough for speech recognition) and posts frames of exactly
 * `frameSamples` PCM16 samples. Hand-written: no library ships a worklet that does this.
 */
export const MIC_PROCESSOR_NAME = 'parley-mic';

export const micWorkletSource = `
class ParleyMic extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = (options && options.processorOptions) || {};
    this.frame = o.frameSamples || 320;
    this.ratio = sampleRate / (o.targetRate || 16000);
    this.buf = new Int16Array(this.frame);
    this.n = 0; this.acc = 0; this.count = 0; this.pos = 0;
  }
  process(inputs) {
    const input = inputs[0];
    const ch = input && input[0];
    if (!ch) return true;
    for (let i = 0; i < ch.length; i++) {
      this.acc += ch[i];
      this.count++;
      this.pos += 1;
      if (this.pos < this.ratio) continue;
      this.pos -= this.ratio;
      let v = this.acc / this.count;
      this.acc = 0; this.count = 0;
      v = v > 1 ? 1 : v < -1 ? -1 : v;
      this.buf[this.n++] = v < 0 ? v * 32768 : v * 32767;
      if (this.n === this.frame) {
        this.port.postMessage(this.buf.buffer, [this.buf.buffer]);
        this.buf = new Int16Array(this.frame);
        this.n = 0;
      }
    }
    return true;
  }
}
registerProcessor('${MIC_PROCESSOR_NAME}', ParleyMic);
`;

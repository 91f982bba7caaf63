import { MIC_PROCESSOR_NAME, micWorkletSource } from './mic-worklet.js';

export interface MicrophoneOptions {
  targetRate: 8000 | 16000;
  frameSamples: number;
  onFrame: (frame: ArrayBuffer) => void;
}

/** The microphone through the resampling worklet: `onFrame` gets PCM16 frames at `targetRate`. */
export class Microphone {
  private constructor(
    private readonly stream: MediaStream,
    private readonly source: MediaStreamAudioSourceNode,
    private readonly node: AudioWorkletNode,
    private readonly sink: GainNode,
  ) {}

  static async open(ctx: AudioContext, options: MicrophoneOptions): Promise<Microphone> {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, channelCount: 1 },
    });
    try {
      const url = URL.createObjectURL(new Blob([micWorkletSource], { type: 'application/javascript' }));
      try {
        await ctx.audioWorklet.addModule(url);
      } finally {
        URL.revokeObjectURL(url);
      }
      const node = new AudioWorkletNode(ctx, MIC_PROCESSOR_NAME, {
        numberOfInputs: 1,
        numberOfOutputs: 1,
        channelCount: 1,
        channelCountMode: 'explicit',
        processorOptions: { targetRate: options.targetRate, frameSamples: options.frameSamples },
      });
      node.port.onmessage = (e: MessageEvent<ArrayBuffer>) => options.onFrame(e.data);
      const source = ctx.createMediaStreamSource(stream);
      // A worklet only runs when connected to the destination; a muted gain keeps it silent.
      const sink = ctx.createGain();
      sink.gain.value = 0;
      source.connect(node).connect(sink).connect(ctx.destination);
      return new Microphone(stream, source, node, sink);
    } catch (error) {
      for (const track of stream.getTracks()) track.stop();
      throw error;
    }
  }

  close(): void {
    this.node.port.onmessage = null;
    this.source.disconnect();
    this.node.disconnect();
    this.sink.disconnect();
    for (const track of this.stream.getTracks()) track.stop();
  }
}

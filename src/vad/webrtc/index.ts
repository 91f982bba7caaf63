export { createWebRtcVad, type WebRtcVadOptions } from './webrtc-vad.js';

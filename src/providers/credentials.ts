/**
 * How a cloud provider is reached: the team's stored key (decrypted) or the operator's
 * environment, and an optional base URL (a proxy, a self-hosted compatible server, or a
 * local protocol fake in tests). Every cloud provider factory takes these.
 */
export interface ProviderCredentials {
  apiKey?: string;
  /** Overrides the provider's public endpoint, e.g. `http://127.0.0.1:11434/v1` for Ollama. */
  baseUrl?: string;
}

import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { TurnLatency } from '../lib/conversation.js';

export const CHART_COLORS = { stt: '#0ea5e9', llm: '#6366f1', tts: '#f59e0b' } as const;

/** Per-turn latencies as stacked bars: STT, LLM first token, TTS first audio. */
export function MetricsChart({ turns }: { turns: TurnLatency[] }) {
  return (
    <div className="metrics-chart" data-testid="metrics-chart">
      <ResponsiveContainer width="100%" height={260}>
        <BarChart data={turns} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e5e7eb" />
          <XAxis dataKey="turn" tickLine={false} axisLine={false} fontSize={12} />
          <YAxis unit=" ms" tickLine={false} axisLine={false} fontSize={12} width={64} />
          <Tooltip
            formatter={(value, name) => [`${value} ms`, String(name)]}
            labelFormatter={(label, payload) => {
              const turn = payload?.[0]?.payload as TurnLatency | undefined;
              return `Turn ${String(label)}${turn?.interrupted ? ' (interrupted)' : ''}`;
            }}
          />
          <Legend iconType="circle" wrapperStyle={{ fontSize: 12 }} />
          <Bar dataKey="stt" name="STT" stackId="latency" fill={CHART_COLORS.stt} />
          <Bar dataKey="llm" name="LLM first token" stackId="latency" fill={CHART_COLORS.llm} />
          <Bar
            dataKey="tts"
            name="TTS first audio"
            stackId="latency"
            fill={CHART_COLORS.tts}
            radius={[4, 4, 0, 0]}
          />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

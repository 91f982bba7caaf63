/**
 * Success-evaluation rubrics: what the evaluator is asked for, and how its answer is read.
 * pass-fail → boolean; numeric-1-10 → integer 1..10; descriptive-scale → one of the scale's words.
 */
export type Rubric = 'pass-fail' | 'numeric-1-10' | 'descriptive-scale';
export type SuccessValue = boolean | number | string;

const DESCRIPTIVE_SCALE = ['Excellent', 'Good', 'Fair', 'Poor', 'Terrible'] as const;

export function rubricInstruction(rubric: Rubric): string {
  switch (rubric) {
    case 'pass-fail':
      return 'Answer with exactly one word: "true" if the call met the goal, "false" if it did not.';
    case 'numeric-1-10':
      return 'Answer with exactly one integer from 1 (complete failure) to 10 (complete success).';
    case 'descriptive-scale':
      return `Answer with exactly one of these words: ${DESCRIPTIVE_SCALE.join(', ')}.`;
  }
}

/** Reads an evaluator's answer; undefined when it does not fit the rubric. */
export function parseEvaluation(rubric: Rubric, answer: string): SuccessValue | undefined {
  const text = answer.trim().toLowerCase();
  switch (rubric) {
    case 'pass-fail': {
      const m = /\b(true|false|pass|fail|passed|failed|yes|no)\b/.exec(text);
      if (!m) return undefined;
      return ['true', 'pass', 'passed', 'yes'].includes(m[1] as string);
    }
    case 'numeric-1-10': {
      const m = /\b(10|[1-9])\b/.exec(text);
      return m ? Number(m[1]) : undefined;
    }
    case 'descriptive-scale':
      return DESCRIPTIVE_SCALE.find((w) => new RegExp(`\\b${w.toLowerCase()}\\b`).test(text));
  }
}

/** An outcome in [0, 1] (1: success) on the rubric's scale. */
export function fromScore(rubric: Rubric, score: number): SuccessValue {
  const s = Math.min(1, Math.max(0, score));
  switch (rubric) {
    case 'pass-fail':
      return s >= 1;
    case 'numeric-1-10':
      return 1 + Math.round(9 * s);
    case 'descriptive-scale':
      return DESCRIPTIVE_SCALE[Math.min(4, Math.round(4 * (1 - s)))] as string;
  }
}

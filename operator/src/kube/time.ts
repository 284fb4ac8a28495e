// Kubernetes time formats: metav1.Time is RFC 3339 to the second, metav1.MicroTime has
// exactly six fractional digits (the API server refuses other spellings of either).

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

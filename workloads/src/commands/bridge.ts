export async function run(): Promise<number> {
  throw new Error('bridge: not implemented yet');
}

/** Write and wait until the stream took it, so large outputs keep backpressure. */
export function writeOut(stream: NodeJS.WritableStream, data: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(data, (err) => (err ? reject(err) : resolve())));
}

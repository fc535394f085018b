declare module 'fs-ext' {
  type FlockFlag = 'sh' | 'ex' | 'shnb' | 'exnb' | 'un';
  export function flock(fd: number, flags: FlockFlag, cb: (err: NodeJS.ErrnoException | null) => void): void;
  export function flockSync(fd: number, flags: FlockFlag): void;
  const _default: { flock: typeof flock; flockSync: typeof flockSync };
  export default _default;
}

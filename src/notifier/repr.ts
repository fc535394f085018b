// Python's repr() of an exception, as oslo_serialization.jsonutils.to_primitive renders one in a
// notification payload (e.g. scheduler.retype's `reason`): ClassName('message').

function pyReprStr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = s
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(new RegExp(q, 'g'), `\\${q}`);
  return `${q}${body}${q}`;
}

export function pyExceptionRepr(ex: Error): string {
  const name = ex.name && ex.name !== 'Error' ? ex.name : ex.constructor.name;
  return `${name}(${pyReprStr(ex.message)})`;
}

// The baseline of the cold-start measurement: a Node process that does nothing but report.
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ inScriptMs: 0, cpuUs: cpu.user + cpu.system }) + '\n');

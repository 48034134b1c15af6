import { z } from 'zod'

// A kernel module name as modprobe.d, dracut --omit-drivers and /proc/modules spell it. Checked at
// load time so a name can never carry shell or modprobe.d syntax (spaces, newlines, `;`, `$(`, `/`).
export const moduleNameSchema = z.string().regex(/^[A-Za-z0-9_-]+$/, 'a kernel module name ([A-Za-z0-9_-])')

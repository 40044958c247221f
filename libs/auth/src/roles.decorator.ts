import { SetMetadata } from '@nestjs/common';

export type StaffRole = 'compliance' | 'admin';

export const ROLES_KEY = 'meditron:staff-roles';

/** Staff roles allowed to call a handler (any one of them suffices); read by StaffAuthGuard. */
export const Roles = (...roles: StaffRole[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES_KEY, roles);

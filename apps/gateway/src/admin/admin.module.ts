import { Module } from '@nestjs/common';
import { EdgeAuthModule } from '../auth/edge-auth.module';
import { AdminClientsController } from './admin-clients.controller';

/** Platform-admin API over the EHR client registry (staff OIDC). */
@Module({
  imports: [EdgeAuthModule],
  controllers: [AdminClientsController],
})
export class AdminModule {}

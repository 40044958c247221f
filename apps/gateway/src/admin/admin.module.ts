import { Module } from '@nestjs/common';
import { EdgeAuthModule } from '../auth/edge-auth.module';
import { JsonBodyReader } from '../forwarding/json-body.reader';
import { AdminClientWriter } from './admin-client.writer';
import { AdminClientsController } from './admin-clients.controller';

/** Platform-admin API over the EHR client registry (staff OIDC). */
@Module({
  imports: [EdgeAuthModule],
  controllers: [AdminClientsController],
  providers: [JsonBodyReader, AdminClientWriter],
})
export class AdminModule {}

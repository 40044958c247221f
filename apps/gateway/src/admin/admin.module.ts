import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ClientTableStore } from '@app/clients';
import { EdgeAuthModule } from '../auth/edge-auth.module';
import { JsonBodyReader } from '../forwarding/json-body-reader.service';
import { AdminClientWriter } from './admin-client.writer';
import { AdminClientsController } from './admin-clients.controller';

/** Platform-admin API over the EHR client registry (staff OIDC). */
@Module({
  imports: [EdgeAuthModule],
  controllers: [AdminClientsController],
  providers: [
    JsonBodyReader,
    AdminClientWriter,
    // The `ehr_clients` table's own store (libs/clients owns its SQL), over the app's one DataSource.
    { provide: ClientTableStore, useFactory: (ds: DataSource) => new ClientTableStore(ds), inject: [DataSource] },
  ],
})
export class AdminModule {}

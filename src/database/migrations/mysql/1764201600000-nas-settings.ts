import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * radgraph's per-NAS settings beside FreeRADIUS's nas table: the RFC 5176 CoA port and the
 * RouterOS API (host, port, user, encrypted password, TLS). Removed with their nas row.
 */
export class NasSettings1764201600000 implements MigrationInterface {
  name = 'NasSettings1764201600000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      "CREATE TABLE `rg_nas_settings` (`nas_id` int NOT NULL, `coa_port` int NOT NULL DEFAULT '3799', `api_host` varchar(253) NULL, `api_port` int NULL, `api_user` varchar(64) NULL, `api_password` varchar(512) NULL, `api_tls` tinyint NOT NULL DEFAULT 0, `api_tls_verify` tinyint NOT NULL DEFAULT 1, `created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), `updated_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), PRIMARY KEY (`nas_id`)) ENGINE=InnoDB",
    );
    await q.query(
      'ALTER TABLE `rg_nas_settings` ADD CONSTRAINT `FK_rg_nas_settings_nas` FOREIGN KEY (`nas_id`) REFERENCES `nas`(`id`) ON DELETE CASCADE ON UPDATE NO ACTION',
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE `rg_nas_settings`');
  }
}

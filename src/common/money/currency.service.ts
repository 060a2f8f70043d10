import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.tokens';
import { formatMoney, parseMoney, type MoneyInput } from './money';

/**
 * The currency's decimals (CURRENCY_DECIMALS) applied to money: the API speaks decimal
 * strings ("50.00"), the database integer minor units (5000). Keep CURRENCY_DECIMALS once
 * money is stored: the stored integers do not change with it.
 */
@Injectable()
export class CurrencyService {
  readonly decimals: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.decimals = config.currencyDecimals;
  }

  /** An amount from the API in minor units; BAD_USER_INPUT naming `field` when it is not one. */
  parse(field: string, value: MoneyInput): bigint {
    return parseMoney(field, value, this.decimals);
  }

  /** Minor units as the API shows them. */
  format(minor: bigint | string | number): string {
    return formatMoney(minor, this.decimals);
  }
}

import { Module } from '@nestjs/common';
import { CurrencyService } from './currency.service';

/** Money in the currency's decimals: CurrencyService, for every module that shows or takes it. */
@Module({
  providers: [CurrencyService],
  exports: [CurrencyService],
})
export class MoneyModule {}

package examples.dbaggregate;

import manta.Manta;
import manta.Module;

/** Offers the JDBC Aggregator as the actor class "JdbcAggregator" to every caller, C included. */
public class DbAggregateModule implements Module {
  @Override
  public void register() {
    Manta.registerActor("JdbcAggregator", JdbcAggregator.class);
  }
}

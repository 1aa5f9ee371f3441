using FlowOrleans.GrainInterfaces;

namespace FlowOrleans.Grains.Hosting;

/// <summary>
/// Durable cluster state on PostgreSQL through Orleans' ADO.NET providers: the flow grains' storage, the reminder
/// table (which brings pins back after every silo restarted) and membership. The database must first be prepared
/// with the scripts in <c>deploy/postgresql/</c>.
/// </summary>
public static class FlowOrleansPostgresExtensions
{
    /// <summary>The ADO.NET invariant name Orleans maps to Npgsql.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>
    /// Keeps the flow grains' state (<see cref="FlowStorageNames.Default"/>), stream subscriptions (<c>PubSubStore</c>,
    /// so an acceptor's subscription survives the silo that held it) and reminders in PostgreSQL. Call it before
    /// <see cref="FlowOrleansStreamsExtensions.AddFlowOrleansMemoryStreams"/>.
    /// </summary>
    public static ISiloBuilder AddFlowOrleansPostgresStorage(this ISiloBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        foreach (var name in new[] { FlowStorageNames.Default, FlowOrleansStreamsExtensions.PubSubStoreName })
        {
            builder.AddAdoNetGrainStorage(name, o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = connectionString;
            });
        }

        builder.UseAdoNetReminderService(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connectionString;
        });
        return builder;
    }

    /// <summary>Keeps cluster membership in PostgreSQL, so silos on different hosts find each other.</summary>
    public static ISiloBuilder UseFlowOrleansPostgresClustering(this ISiloBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        return builder.UseAdoNetClustering(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connectionString;
        });
    }
}

using FlowOrleans.GrainInterfaces;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

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
        builder.Services.Configure<ExceptionSerializationOptions>(SerializeDriverExceptions);
        return builder;
    }

    /// <summary>
    /// Lets Orleans serialize the driver's exceptions (<c>Npgsql.*</c>) as it does .NET's own. A storage failure
    /// (a timed-out connection, say) reaches a caller as Orleans' storage exception with the driver's exception inside;
    /// without this, Orleans cannot serialize that inner exception, and the caller sees only "Could not find a codec for
    /// type Npgsql.NpgsqlException" instead of what failed. The receiver gets the driver's type if it has it, else
    /// Orleans' fallback exception with the same message.
    /// </summary>
    internal static void SerializeDriverExceptions(ExceptionSerializationOptions options) => options.SupportedNamespacePrefixes.Add("Npgsql");

    /// <summary>Keeps cluster membership in PostgreSQL, so silos on different hosts find each other.</summary>
    public static ISiloBuilder UseFlowOrleansPostgresClustering(this ISiloBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        builder.Services.Configure<ExceptionSerializationOptions>(SerializeDriverExceptions);
        return builder.UseAdoNetClustering(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connectionString;
        });
    }
}

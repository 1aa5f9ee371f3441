using Npgsql;

namespace FlowOrleans.Silo;

/// <summary>
/// Prepares a PostgreSQL database for <c>Silo:Storage=PostgreSQL</c>: runs the Orleans schema scripts shipped beside the
/// program (<c>postgresql/*.sql</c>, from <c>deploy/postgresql/</c>) unless the schema is already there. Silos starting
/// together (pods of one Deployment, each with this as its init container) serialise on a PostgreSQL advisory lock, so
/// exactly one of them creates the schema.
/// </summary>
internal static class DatabaseSchema
{
    // Any fixed 64-bit number: it names the lock for every process preparing a FlowOrleans database.
    private const long SchemaLockKey = 0x466C_6F77_4F72_6C6E;

    /// <summary><c>init-db [connection-string]</c>; without an argument, the <c>Silo__PostgreSql</c> environment variable.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var connectionString = args.Length > 0 ? args[0] : Environment.GetEnvironmentVariable("Silo__PostgreSql");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            await Console.Error.WriteLineAsync("init-db needs a connection string: init-db 'Host=...;Database=...' or Silo__PostgreSql in the environment.");
            return 2;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var created = await EnsureAsync(connectionString, timeout.Token);
        Console.WriteLine(created ? "Created the FlowOrleans schema." : "The FlowOrleans schema is already there.");
        return 0;
    }

    /// <summary>Creates the schema unless it exists; true if this call created it.</summary>
    public static async Task<bool> EnsureAsync(string connectionString, CancellationToken cancellationToken)
    {
        var scripts = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "postgresql"), "*.sql").Order(StringComparer.Ordinal).ToArray();
        if (scripts.Length == 0)
        {
            throw new InvalidOperationException($"No schema scripts under {Path.Combine(AppContext.BaseDirectory, "postgresql")}.");
        }

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await ExecuteAsync(connection, $"SELECT pg_advisory_lock({SchemaLockKey})", cancellationToken);
        try
        {
            await using (var exists = new NpgsqlCommand("SELECT to_regclass('orleansquery') IS NOT NULL", connection))
            {
                if ((bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
                {
                    return false;
                }
            }

            // All scripts in one transaction: a failure part way leaves the database as it was, so a retry starts clean.
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            foreach (var script in scripts)
            {
                await using var command = new NpgsqlCommand(await File.ReadAllTextAsync(script, cancellationToken), connection, transaction);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return true;
        }
        finally
        {
            await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({SchemaLockKey})", CancellationToken.None);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

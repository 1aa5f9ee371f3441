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

    /// <summary>
    /// <c>init-db [connection-string]</c>; without an argument, the <c>Silo__PostgreSql</c> environment variable. A
    /// missing or malformed connection string is <see cref="SiloExitCode.BadSetting"/>, a database that cannot be
    /// reached <see cref="SiloExitCode.StorageUnavailable"/>.
    /// </summary>
    public static async Task<int> RunAsync(string? connectionString, TextWriter output, CancellationToken cancellationToken)
    {
        const string Setting = "CONNECTION-STRING (or Silo__PostgreSql)";
        connectionString ??= Environment.GetEnvironmentVariable("Silo__PostgreSql");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new SiloFailure(SiloExitCode.BadSetting,
                $"{Setting} '' is missing; expected init-db 'Host=...;Database=...;Username=...;Password=...' or Silo__PostgreSql in the environment");
        }

        var shown = Redacted(connectionString, Setting);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(5));
        bool created;
        try
        {
            created = await EnsureAsync(connectionString, timeout.Token);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new SiloFailure(SiloExitCode.StorageUnavailable,
                $"{Setting} '{shown}' could not be used ({Describe(e)}); expected a running PostgreSQL server that accepts this login", e);
        }

        await output.WriteLineAsync(created ? "Created the FlowOrleans schema." : "The FlowOrleans schema is already there.");
        return 0;
    }

    /// <summary>The connection string without its password, for messages; a malformed one is <see cref="SiloExitCode.BadSetting"/>.</summary>
    public static string Redacted(string connectionString, string setting)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            if (builder.Password is not null)
            {
                builder.Password = "***";
            }

            return builder.ConnectionString;
        }
        catch (ArgumentException e)
        {
            throw new SiloFailure(SiloExitCode.BadSetting,
                $"{setting} is not a valid connection string ({StartFailures.OneLine(e.Message)}); expected Host=...;Database=...;Username=...;Password=...", e);
        }
    }

    /// <summary>Why a database could not be used, on one line: Npgsql's message and the socket's reason under it.</summary>
    public static string Describe(Exception exception) => exception switch
    {
        OperationCanceledException or TimeoutException => "no answer in time",
        { InnerException: { } inner } when inner is not TimeoutException => $"{StartFailures.OneLine(exception.Message)}: {StartFailures.OneLine(inner.Message)}",
        _ => StartFailures.OneLine(exception.Message),
    };

    /// <summary>Whether the database holds the FlowOrleans (Orleans ADO.NET) schema.</summary>
    public static async Task<bool> ExistsAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        return await ExistsAsync(connection, cancellationToken);
    }

    private static async Task<bool> ExistsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var exists = new NpgsqlCommand("SELECT to_regclass('orleansquery') IS NOT NULL", connection);
        return (bool)(await exists.ExecuteScalarAsync(cancellationToken))!;
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
            if (await ExistsAsync(connection, cancellationToken))
            {
                return false;
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

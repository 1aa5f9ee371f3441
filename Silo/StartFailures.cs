using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using FlowOrleans.Transport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FlowOrleans.Silo;

/// <summary>
/// Turns what failed while the silo was configured or started into a <see cref="SiloFailure"/>: one line naming the
/// setting and its value, and the exit code of its class. The checks before the start (<see cref="StartChecks"/>) name
/// the setting themselves; this catches what only the start itself finds.
/// </summary>
internal static partial class StartFailures
{
    public static SiloFailure Classify(Exception exception, IConfiguration configuration)
    {
        foreach (var e in Chain(exception))
        {
            var failure = e switch
            {
                SiloFailure known => known,
                Http.HttpPortInUseException inUse => new SiloFailure(SiloExitCode.AddressInUse, OneLine(inUse.Message), exception),
                OptionsValidationException invalid => new SiloFailure(SiloExitCode.BadSetting, string.Join(" ", invalid.Failures), exception),
                InvalidOperationException when BinderFailure().Match(e.Message) is { Success: true } match =>
                    new SiloFailure(SiloExitCode.BadSetting,
                        $"{match.Groups["key"].Value} '{configuration[match.Groups["key"].Value]}' is not valid; expected a value of type {match.Groups["type"].Value}", exception),
                FormatException when e.StackTrace?.Contains("CommandLineConfigurationProvider", StringComparison.Ordinal) == true =>
                    new SiloFailure(SiloExitCode.BadSetting, $"{OneLine(e.Message)}; expected settings as --Section:Key=value", exception),
                SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse or SocketError.AddressNotAvailable or SocketError.AccessDenied } socket =>
                    new SiloFailure(SiloExitCode.AddressInUse, $"an address the silo listens on could not be bound ({socket.SocketErrorCode}: {OneLine(socket.Message)}); expected free addresses for Silo:SiloPort, Silo:GatewayPort and FlowOrleans:Listen", exception),
                FlowException { Code: FlowErrorCode.BadArg } flow => new SiloFailure(SiloExitCode.BadSetting, OneLine(flow.Message), exception),
                NpgsqlException npgsql => new SiloFailure(SiloExitCode.StorageUnavailable, $"Silo:PostgreSql: {OneLine(npgsql.Message)}; expected a reachable PostgreSQL server prepared with init-db", exception),
                AuthenticationException or CryptographicException => new SiloFailure(SiloExitCode.Certificates, $"Silo:Tls: {OneLine(e.Message)}; expected usable certificates", exception),
                _ => null,
            };
            if (failure is not null)
            {
                return failure;
            }
        }

        return new SiloFailure(SiloExitCode.Internal,
            $"internal error ({exception.GetType().Name}): {OneLine(exception.Message)}; --Logging:LogLevel:FlowOrleans.Silo=Debug logs the details", exception);
    }

    /// <summary>The message on one line: exception texts (Orleans' especially) may span several.</summary>
    public static string OneLine(string message) => Whitespace().Replace(message, " ").Trim();

    private static IEnumerable<Exception> Chain(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : e.InnerException)
        {
            yield return e;
        }
    }

    // Microsoft.Extensions.Configuration.Binder: "Failed to convert configuration value '...' at 'Section:Key' to type '...'."
    [GeneratedRegex(@"at '(?<key>[^']+)' to type '(?<type>[^']+)'")]
    private static partial Regex BinderFailure();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}

using FlowOrleans.Grains.Security;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Options;

namespace FlowOrleans.Grains.Hosting;

/// <summary>Rejects flow transport settings a silo could not start with, before it starts.</summary>
internal sealed class FlowOrleansOptionsValidator : IValidateOptions<FlowOrleansOptions>
{
    public ValidateOptionsResult Validate(string? name, FlowOrleansOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        foreach (var listen in options.Listen)
        {
            if (!ListenAddress.TryParse(listen, out _))
            {
                failures.Add($"Listen address '{listen}' is not of the form protocol/address (e.g. tcp/127.0.0.1:0).");
            }
        }

        if (string.IsNullOrWhiteSpace(options.ListenName))
        {
            failures.Add("ListenName must not be empty.");
        }

        if (string.IsNullOrWhiteSpace(options.StreamProvider))
        {
            failures.Add("StreamProvider must not be empty.");
        }

        failures.AddRange(TrustProblems(options.Trust));
        failures.AddRange(RequestRule.Problems(options.Policy.Dial, FlowOrleansOptions.PolicySectionName + ":Dial"));
        failures.AddRange(RequestRule.Problems(options.Policy.Listen, FlowOrleansOptions.PolicySectionName + ":Listen"));
        if (options.ListenNameLease < TimeSpan.FromSeconds(1))
        {
            failures.Add("ListenNameLease must be at least 1 s: acceptors renew at a third of it.");
        }

        if (options.ReadChunkSize is < 1 or > FlowOrleansOptions.MaxReadChunkSize)
        {
            failures.Add($"ReadChunkSize must be between 1 and {FlowOrleansOptions.MaxReadChunkSize}.");
        }

        if (options.ReadAheadChunks < 1)
        {
            failures.Add("ReadAheadChunks must be positive.");
        }

        if (options.ClaimTimeout <= TimeSpan.Zero)
        {
            failures.Add("ClaimTimeout must be positive.");
        }

        if (options.PinCheckPeriod <= TimeSpan.Zero)
        {
            failures.Add("PinCheckPeriod must be positive.");
        }

        if (options.PinReminderPeriod <= TimeSpan.Zero)
        {
            failures.Add("PinReminderPeriod must be positive (and at least the silo's ReminderOptions.MinimumReminderPeriod).");
        }

        if (options.FlowLeaseTimeout < TimeSpan.FromSeconds(1))
        {
            failures.Add("FlowLeaseTimeout must be at least 1 s: clients renew at a third of it.");
        }

        if (options.DefaultChannelTimeout < TimeSpan.Zero)
        {
            failures.Add("DefaultChannelTimeout must not be negative.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static IEnumerable<string> TrustProblems(SiloTrustOptions trust)
    {
        const string Section = FlowOrleansOptions.TrustSectionName;
        if (string.IsNullOrWhiteSpace(trust.BlessingName) || !BlessingPattern.TryParse(trust.BlessingName, out _))
        {
            yield return $"{Section}:BlessingName '{trust.BlessingName}' is not a blessing name.";
        }

        foreach (var (name, patterns) in new[] { ("AcceptPatterns", trust.AcceptPatterns), ("DialPatterns", trust.DialPatterns) })
        {
            foreach (var pattern in patterns.Where(p => !BlessingPattern.TryParse(p, out _)))
            {
                yield return $"{Section}:{name}: '{pattern}' is not a blessing pattern.";
            }
        }

        if (trust.AcceptPatterns.Count == 0 && !trust.AllowEveryone)
        {
            yield return $"{Section}:AcceptPatterns is empty: name the blessing patterns peers that dial the silo must present, " +
                $"or set {Section}:AllowEveryone=true to accept any peer that authenticates (development only).";
        }

        foreach (var root in trust.Roots)
        {
            string? problem = null;
            try
            {
                using var principal = Principal.CreateInMemory();
                SiloPrincipal.AddRoots(principal, [root]);
            }
            catch (Exception e) when (e is FlowException)
            {
                problem = e.Message;
            }

            if (problem is not null)
            {
                yield return $"{Section}:Roots: {problem}";
            }
        }
    }
}
